//! The live search screen, and the collapsible tree list shared with the saved-tree browser.

use std::collections::HashSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{detail, duration, one_line, styled};
use crate::tree::{ExecStatus, Node, NodeId, StepParts, TerminalReason};
use crate::tui::app::{App, HitAreas};
use crate::tui::theme::Theme;
use crate::tui::tree_pane::{TreePane, guides};

pub fn render_live(app: &App, frame: &mut Frame, area: Rect, hits: &mut HitAreas) {
    let t = &app.theme;
    let Some(live) = &app.live else {
        let msg = vec![
            Line::styled("No search yet.", t.title),
            Line::styled("Pick a problem on screen 1 and press Enter to start one.", t.dim),
        ];
        frame.render_widget(
            Paragraph::new(msg).block(Block::default().borders(Borders::ALL).border_style(t.border)),
            area,
        );
        return;
    };
    let [header, body] = Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(area);
    let state = match (&live.finish, live.search) {
        (Some(_), _) => styled("finished", t.good),
        (None, None) => styled("starting", t.warn),
        (None, Some(_)) => styled(
            match app.engine_state {
                crate::engine::thread::EngineState::Idle => "waiting (s step · n run N · r run to end)",
                crate::engine::thread::EngineState::Loading => "loading model",
                crate::engine::thread::EngineState::Running => "running",
                crate::engine::thread::EngineState::Paused => "paused",
            },
            t.warn,
        ),
    };
    let tps = live.tokens_per_second().map_or_else(|| "–".to_owned(), |v| format!("{v:.0}"));
    let mut counters = vec![
        state,
        styled(" │ iterations ", t.dim),
        styled(live.iterations.to_string(), t.text),
        styled(" │ nodes ", t.dim),
        styled(live.pane.tree.len().to_string(), t.text),
        styled(" │ tokens ", t.dim),
        styled(live.tokens.to_string(), t.text),
        styled(" │ ", t.dim),
        styled(duration(live.elapsed.as_secs_f64()), t.text),
        styled(" │ tok/s ", t.dim),
        styled(tps, t.text),
        styled(format!(" │ run N={}", live.run_n), t.dim),
    ];
    if live.follow {
        counters.push(styled(" │ following", t.accent));
    }
    if live.frozen {
        counters.push(styled(format!(" │ FROZEN ({} events held)", live.buffered.len()), t.bad));
    }
    let answer = match &live.finish {
        Some(f) => {
            let (mark, style) = match f.correct {
                Some(true) => (" ✓", t.good),
                Some(false) => (" ✗", t.bad),
                None => ("", t.text),
            };
            vec![
                styled("answer ", t.dim),
                styled(
                    format!("{}{mark}", f.answer.as_deref().unwrap_or("(none)")),
                    style.add_modifier(Modifier::BOLD),
                ),
            ]
        }
        None => vec![styled("answer ", t.dim), styled("…", t.dim)],
    };
    let lines = vec![
        Line::from(vec![
            styled(format!("{} · {} · ", live.algorithm, live.model), t.accent),
            styled(one_line(&live.question, header.width as usize), t.text),
        ]),
        Line::from(
            [
                vec![
                    styled("ground truth ", t.dim),
                    styled(live.pane.ground_truth.to_string(), t.good),
                    styled("   ", t.dim),
                ],
                answer,
            ]
            .concat(),
        ),
        Line::from(counters),
    ];
    let block = Block::default().borders(Borders::BOTTOM).border_style(t.border);
    frame.render_widget(Paragraph::new(lines).block(block), header);
    render_tree_and_detail(app, &live.pane, frame, body, hits);
}

/// The tree on the left, the detail pane on the right (or the inspector alone when zoomed).
pub fn render_tree_and_detail(
    app: &App,
    pane: &TreePane,
    frame: &mut Frame,
    area: Rect,
    hits: &mut HitAreas,
) {
    if pane.zoom {
        hits.detail = area;
        detail::render(app, pane, frame, area);
        return;
    }
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    render_tree(app, pane, frame, left, hits);
    hits.detail = right;
    detail::render(app, pane, frame, right);
}

/// The collapsible tree: one row per visible node, the selection kept in view.
pub fn render_tree(app: &App, pane: &TreePane, frame: &mut Frame, area: Rect, hits: &mut HitAreas) {
    let t = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus_border)
        .title(Span::styled(format!(" Tree · {} nodes ", pane.tree.len()), t.title))
        .title_bottom(Line::from(vec![
            styled(" ★ best ", t.best_path),
            styled("▸ PUCT next ", t.puct_path),
            styled("✓ ✗ answer ", t.dim),
            styled("⚠ error ⏱ timeout ⊕ merged ", t.dim),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    hits.list = inner;
    let rows = pane.rows();
    let height = inner.height as usize;
    pane.viewport.set(height);
    let at = rows.iter().position(|r| *r == pane.selected).unwrap_or(0);
    let mut offset = pane.offset.get().min(rows.len().saturating_sub(1));
    if at < offset {
        offset = at;
    } else if at >= offset + height {
        offset = at + 1 - height;
    }
    pane.offset.set(offset);
    let best: HashSet<NodeId> = pane.best_path().into_iter().collect();
    let puct: HashSet<NodeId> = pane.puct_path().into_iter().collect();
    let lines: Vec<Line> = rows
        .iter()
        .skip(offset)
        .take(height)
        .map(|&id| {
            row(
                t,
                pane,
                id,
                best.contains(&id),
                puct.contains(&id),
                id == pane.selected,
                inner.width as usize,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The badges of a node: answer verdict, failures, code status, merges.
pub fn badges(t: &Theme, node: &Node) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    match node.terminal() {
        Some(TerminalReason::FinalAnswer) => match node.info().correct {
            Some(true) => out.push(styled("✓", t.good)),
            Some(false) => out.push(styled("✗", t.bad)),
            None => out.push(styled("■", t.accent)),
        },
        Some(_) => out.push(styled("⊘", t.bad)),
        None => {}
    }
    if let Some(exec) = &node.info().execution {
        match exec.status {
            ExecStatus::Ok => {}
            ExecStatus::Error => out.push(styled("⚠", t.warn)),
            ExecStatus::Timeout => out.push(styled("⏱", t.warn)),
            ExecStatus::Killed => out.push(styled("☠", t.bad)),
        }
    } else if StepParts::of(node).observation.is_some_and(crate::tree::observation_is_error) {
        out.push(styled("⚠", t.warn));
    }
    if let Some(n) = node.info().merged {
        out.push(styled(format!("⊕{n}"), t.accent));
    }
    out
}

fn row(
    t: &Theme,
    pane: &TreePane,
    id: NodeId,
    best: bool,
    puct: bool,
    selected: bool,
    width: usize,
) -> Line<'static> {
    let node = pane.tree.node(id);
    let s = node.stats();
    let fold = if node.is_leaf() {
        " "
    } else if pane.is_collapsed(id) {
        "▸"
    } else {
        "▾"
    };
    let mark = if best {
        styled("★", t.best_path)
    } else if puct {
        styled("▸", t.puct_path)
    } else {
        styled(" ", t.dim)
    };
    let colour_value = if s.visit_count > 0 { Some(s.q_value) } else { s.value };
    let tag_style = match colour_value {
        Some(v) => Style::new().fg(t.value_color(v)),
        None => t.dim,
    };
    let tag_style = if best { tag_style.add_modifier(Modifier::BOLD) } else { tag_style };
    let mut spans = vec![
        styled(guides(&pane.tree, id), t.border),
        styled(fold, t.dim),
        mark,
        styled(node.tag().to_owned(), tag_style),
        styled(" ", t.dim),
    ];
    spans.extend(badges(t, node));
    let mut stats = String::new();
    if s.visit_count > 0 {
        stats.push_str(&format!(" Q{:+.2} N{}", s.q_value, s.visit_count));
    }
    if let Some(v) = s.value {
        stats.push_str(&format!(" V{v:+.2}"));
    }
    spans.push(styled(stats, tag_style));
    let parts = StepParts::of(node);
    let headline = if id == NodeId::ROOT {
        node.step().extra_info.strip_prefix("question: ").unwrap_or(&node.step().extra_info).to_owned()
    } else if let Some(answer) = parts.answer {
        format!("answer: {answer}")
    } else {
        let mut h = parts.headline().to_owned();
        if let Some(obs) = parts.observation {
            h.push_str(" → ");
            h.push_str(obs.trim());
        }
        h
    };
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    spans.push(styled(format!(" {}", one_line(&headline, width.saturating_sub(used + 1))), t.text));
    let line = Line::from(spans);
    if selected { line.style(t.selected) } else { line }
}

/// Wraps `text` in a bordered paragraph (used for empty states).
pub fn note(app: &App, frame: &mut Frame, area: Rect, title: &str, text: Vec<Line<'static>>) {
    let t = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(format!(" {title} "), t.title));
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), area);
}
