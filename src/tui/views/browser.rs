//! The saved-tree browser: the file's problems, then one tree with its re-selection.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::tree::{note, render_tree_and_detail};
use super::{one_line, styled};
use crate::tui::app::{App, HitAreas};

pub fn render(app: &App, frame: &mut Frame, area: Rect, hits: &mut HitAreas) {
    let t = &app.theme;
    let Some(browser) = &app.browser else {
        note(
            app,
            frame,
            area,
            "Trees",
            vec![
                Line::styled("No tree file is open.", t.title),
                Line::styled("Open one with: arbor view FILE.jsonl (sample_trees/ has some).", t.dim),
            ],
        );
        return;
    };
    if let Some(open) = &browser.open {
        let [header, body] = Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(area);
        let (answer, tag) = match &open.selection {
            Some(s) => (s.final_answer.clone(), s.tag.clone()),
            None => ("(none: nothing left after pruning)".to_owned(), "-".to_owned()),
        };
        let (mark, style) = match open.correct {
            Some(true) => (" ✓", t.good),
            Some(false) => (" ✗", t.bad),
            None => ("", t.text),
        };
        let lines = vec![
            Line::from(vec![
                styled(format!("tree {} · {} · ", open.index + 1, open.kind.name()), t.accent),
                styled(one_line(&open.question, header.width as usize), t.text),
            ]),
            Line::from(vec![
                styled("ground truth ", t.dim),
                styled(open.pane.ground_truth.to_string(), t.good),
                styled(
                    format!(
                        "   re-selection: {}{} → ",
                        open.strategy,
                        if open.prune { ", pruned" } else { "" }
                    ),
                    t.dim,
                ),
                styled(format!("{answer}{mark}"), style.add_modifier(Modifier::BOLD)),
                styled(format!(" at {tag}"), t.dim),
            ]),
            Line::from(vec![
                styled(app.keymap.hint(&app.scopes(), crate::tui::action::Action::NextStrategy), t.key),
                styled(" next strategy (q_value, value, visit_count, puct)  ", t.dim),
                styled(app.keymap.hint(&app.scopes(), crate::tui::action::Action::TogglePrune), t.key),
                styled(" prune on/off  ", t.dim),
                styled("esc", t.key),
                styled(" back to the list", t.dim),
            ]),
        ];
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::BOTTOM).border_style(t.border)),
            header,
        );
        render_tree_and_detail(app, &open.pane, frame, body, hits);
        return;
    }

    let count = browser.summaries.len();
    let done = browser.summarized();
    let progress = if done < count { format!(" · reading summaries {done}/{count}") } else { String::new() };
    let loading = browser.loading.map(|i| format!(" · opening tree {}…", i + 1)).unwrap_or_default();
    let block = Block::default().borders(Borders::ALL).border_style(t.focus_border).title(Span::styled(
        format!(
            " {} · {} trees · {:.1} MB{progress}{loading} ",
            browser.path.display(),
            count,
            browser.file.size() as f64 / 1e6
        ),
        t.title,
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [head, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    hits.list = list;
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!("{:>6}  {:<2} {:>6}  {:<6} {:<18} question", "#", "", "nodes", "kind", "answer"),
            t.dim,
        )),
        head,
    );
    let height = list.height as usize;
    browser.viewport.set(height);
    let mut offset = browser.offset.get();
    if browser.selected < offset {
        offset = browser.selected;
    } else if browser.selected >= offset + height {
        offset = browser.selected + 1 - height;
    }
    browser.offset.set(offset);
    let width = list.width as usize;
    let lines: Vec<Line> = (offset..count.min(offset + height))
        .map(|i| {
            let style = if i == browser.selected { t.selected } else { t.text };
            let line = match &browser.summaries[i] {
                None => Line::from(vec![styled(format!("{:>6}  ", i + 1), t.dim), styled("…", t.dim)]),
                Some(s) if s.error.is_some() => Line::from(vec![
                    styled(format!("{:>6}  ", i + 1), t.dim),
                    styled(one_line(s.error.as_deref().unwrap_or(""), width.saturating_sub(8)), t.bad),
                ]),
                Some(s) => {
                    let (mark, mstyle) = match s.correct {
                        Some(true) => ("✓", t.good),
                        Some(false) => ("✗", t.bad),
                        None => ("·", t.dim),
                    };
                    let fixed = 8 + 3 + 8 + 7 + 19;
                    Line::from(vec![
                        styled(format!("{:>6}  ", i + 1), t.dim),
                        styled(format!("{mark:<2} "), mstyle),
                        styled(format!("{:>6}  ", s.nodes), t.text),
                        styled(format!("{:<6} ", s.kind), t.dim),
                        styled(format!("{:<18} ", one_line(&s.answer, 18)), t.accent),
                        styled(one_line(&s.question, width.saturating_sub(fixed)), t.text),
                    ])
                }
            };
            line.style(style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}
