//! The problem picker: the list with its filter, the selected problem, the algorithm and model.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{one_line, styled};
use crate::search::config::Mode;
use crate::tui::app::{App, HitAreas};
use crate::tui::picker::ALGORITHMS;

pub fn render(app: &App, frame: &mut Frame, area: Rect, hits: &mut HitAreas) {
    let t = &app.theme;
    let p = &app.picker;
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);

    // The list.
    let filter = if p.filtering || !p.filter.is_empty() {
        format!(" filter: {}{} ", p.filter, if p.filtering { "▏" } else { "" })
    } else {
        String::new()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus_border)
        .title(Span::styled(format!(" Problems {}/{} ", p.visible.len(), p.items.len()), t.title))
        .title_bottom(Span::styled(filter, t.accent));
    let inner = block.inner(left);
    frame.render_widget(block, left);
    hits.list = inner;
    let height = inner.height as usize;
    p.viewport.set(height);
    let mut offset = p.offset.get();
    if p.selected < offset {
        offset = p.selected;
    } else if p.selected >= offset + height {
        offset = p.selected + 1 - height;
    }
    p.offset.set(offset);
    let mut lines: Vec<Line> = Vec::new();
    if p.items.is_empty() {
        lines.push(Line::styled(
            "No problems. Pass a problem file with --data FILE (.json or .jsonl),",
            t.dim,
        ));
        lines.push(Line::styled("or start with --demo for the scripted toy problem.", t.dim));
    }
    for (row, &index) in p.visible.iter().enumerate().skip(offset).take(height) {
        let item = &p.items[index];
        let labels: Vec<String> = item.problem.labels().into_iter().map(|(_, v)| v).collect();
        let label = if labels.is_empty() { String::new() } else { format!(" [{}]", labels.join(", ")) };
        let width = inner.width as usize;
        let head = format!("{:>5} ", id_tail(&item.problem.id, 5));
        let text =
            one_line(&item.problem.question, width.saturating_sub(head.len() + label.chars().count() + 1));
        let style = if row == p.selected { t.selected } else { t.text };
        lines.push(
            Line::from(vec![styled(head, t.dim), styled(text, style), styled(label, t.accent)]).style(style),
        );
    }
    for note in &p.notes {
        if lines.len() < height {
            lines.push(Line::styled(one_line(note, inner.width as usize), t.warn));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);

    // The selection, the algorithm, the model.
    let [detail, settings] = Layout::vertical([Constraint::Min(5), Constraint::Length(9)]).areas(right);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(" Problem ", t.title));
    let mut text = Text::default();
    match p.current() {
        Some(item) => {
            text.push_line(Line::from(vec![
                styled("source ", t.dim),
                styled(format!("{} #{}", item.source, item.problem.id), t.text),
            ]));
            text.push_line(Line::from(vec![
                styled("answer ", t.dim),
                styled(item.problem.ground_truth.to_string(), t.good),
            ]));
            for (k, v) in item.problem.labels() {
                text.push_line(Line::from(vec![styled(format!("{k} "), t.dim), styled(v, t.accent)]));
            }
            text.push_line(Line::default());
            for l in item.problem.question.lines() {
                text.push_line(Line::styled(l.to_owned(), t.text));
            }
        }
        None => text.push_line(Line::styled("nothing selected", t.dim)),
    }
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), detail);

    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(" Search ", t.title));
    let mut algos: Vec<Span> = vec![styled("algorithm ", t.dim)];
    for (i, (label, _)) in ALGORITHMS.iter().enumerate() {
        let style = if i == p.algorithm { t.selected.patch(t.key) } else { t.dim };
        algos.push(styled(format!(" {label} "), style));
    }
    let c = p.config();
    let shape = match c.mode {
        Mode::Mcts => format!(
            "N={} iterations, {} samples per expansion, c_puct={}",
            c.iterations, c.n_generate_sample, c.c_puct
        ),
        Mode::Sbs => format!("SBS({},{}), depth ≤ {}", c.step_beam_width, c.n_generate_sample, c.max_depth),
        Mode::Sample => format!("{} sampled chains, majority vote", c.n_generate_sample),
        Mode::React => format!("one chain, temperature {}", c.temperature),
    };
    let value = if c.need_value_func { "value head on" } else { "no value head" };
    let model = match app.models.get(app.model) {
        Some(m) if m.demo => Line::from(vec![styled("model ", t.dim), styled(m.name.clone(), t.warn)]),
        Some(m) => Line::from(vec![styled("model ", t.dim), styled(m.name.clone(), t.text)]),
        None => Line::from(vec![
            styled("model ", t.dim),
            styled("no model yet: pass --model PATH or fetch SmolLM2 (scripts/fetch-models.sh)", t.warn),
        ]),
    };
    let lines = vec![
        Line::from(algos),
        Line::from(vec![styled("         ", t.dim), styled(shape, t.text)]),
        Line::from(vec![
            styled("         ", t.dim),
            styled(format!("temperature {}, {value}", c.temperature), t.text),
        ]),
        model,
        Line::default(),
        Line::from(vec![
            styled(app.keymap.hint(&app.scopes(), crate::tui::action::Action::Open), t.key),
            styled(" start   ", t.dim),
            styled(app.keymap.hint(&app.scopes(), crate::tui::action::Action::EditSettings), t.key),
            styled(" edit all settings", t.dim),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), settings);
}

/// The last `max` characters of an id (`test-31` → `…t-31`): ids differ at their ends.
fn id_tail(id: &str, max: usize) -> String {
    let count = id.chars().count();
    if count <= max {
        return id.to_owned();
    }
    let tail: String = id.chars().skip(count - (max - 1)).collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_ids_keep_their_distinctive_end() {
        assert_eq!(super::id_tail("test-31", 5), "…t-31");
        assert_eq!(super::id_tail("12", 5), "12");
        assert_eq!(super::id_tail("abcde", 5), "abcde");
    }
}
