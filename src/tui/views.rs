//! Drawing. Views read the app (`&App`) and never change it; the only thing they record is
//! where things were drawn (scroll offsets, hit areas), in `Cell`s, for the next input.

mod batch;
mod browser;
mod detail;
mod overlay;
mod picker;
mod tree;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::action::Action;
use super::app::{App, HitAreas, Screen};
use crate::engine::thread::EngineState;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let [top, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let mut hits = HitAreas { tabs: top, ..HitAreas::default() };
    render_tabs(app, frame, top);
    match app.screen {
        Screen::Problems => picker::render(app, frame, body, &mut hits),
        Screen::Search => tree::render_live(app, frame, body, &mut hits),
        Screen::Trees => browser::render(app, frame, body, &mut hits),
        Screen::Batch => batch::render(app, frame, body, &mut hits),
    }
    render_status(app, frame, bottom);
    overlay::render(app, frame, area);
    app.hits.set(hits);
}

fn render_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut spans = Vec::new();
    for (i, screen) in Screen::ALL.iter().enumerate() {
        let style = if *screen == app.screen { t.selected.patch(t.title) } else { t.dim };
        spans.push(Span::styled(format!(" {} {} ", i + 1, screen.title()), style));
        spans.push(Span::styled("│", t.border));
    }
    let state = match app.engine_state {
        EngineState::Idle => "idle",
        EngineState::Loading => "loading model",
        EngineState::Running => "running",
        EngineState::Paused => "paused",
    };
    let model = match (&app.engine_model, app.models.get(app.model)) {
        (Some(loaded), _) => loaded.clone(),
        (None, Some(m)) => format!("{} (not loaded)", m.name),
        (None, None) => "no model".to_owned(),
    };
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = (area.width as usize).saturating_sub(used + 12 + state.len());
    let right = format!("engine: {state} · {} ", one_line(&model, room.max(4)));
    let pad = (area.width as usize).saturating_sub(used + right.chars().count());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(right, if app.engine_state == EngineState::Running { t.good } else { t.dim }));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Key hints for the current screen, or the latest note.
fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let scopes = app.scopes();
    let hint = |action: Action, label: &str| -> Vec<Span<'static>> {
        vec![
            Span::styled(app.keymap.hint(&scopes, action), t.key),
            Span::styled(format!(" {label}  "), t.dim),
        ]
    };
    let mut spans: Vec<Span> = Vec::new();
    if !app.note.is_empty() {
        spans.push(Span::styled(format!("{}  ", app.note), t.accent));
    }
    let actions: &[(Action, &str)] = if app.editing_text() {
        &[]
    } else {
        match app.screen {
            Screen::Problems => &[
                (Action::Open, "start"),
                (Action::Filter, "filter"),
                (Action::NextAlgorithm, "algorithm"),
                (Action::EditSettings, "settings"),
                (Action::NextModel, "model"),
            ],
            Screen::Search => &[
                (Action::Step, "step"),
                (Action::RunN, "run N"),
                (Action::RunToEnd, "run to end"),
                (Action::PauseResume, "pause"),
                (Action::Cancel, "cancel"),
                (Action::PaneSiblings, "siblings"),
                (Action::Mark, "mark"),
                (Action::PaneCompare, "compare"),
            ],
            Screen::Trees => &[
                (Action::Open, "open"),
                (Action::NextStrategy, "strategy"),
                (Action::TogglePrune, "prune"),
                (Action::PaneSiblings, "siblings"),
                (Action::PaneCompare, "compare"),
            ],
            Screen::Batch => &[
                (Action::StartBatch, "start"),
                (Action::Cancel, "cancel"),
                (Action::Right, "change"),
                (Action::Open, "edit"),
            ],
        }
    };
    for (action, label) in actions {
        // Hints for keys the current scopes do not bind are left out.
        if app.keymap.key_for(&scopes, *action).is_some() {
            spans.extend(hint(*action, label));
        }
    }
    spans.extend(hint(Action::Help, "help"));
    spans.extend(hint(Action::Quit, "quit"));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `+0.49`, or `  –  ` when absent.
pub fn signed(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{v:+.2}"),
        None => "  –  ".to_owned(),
    }
}

/// A bar of `width` cells for `fraction` in [0, 1].
pub fn bar(fraction: f64, width: usize) -> String {
    let f = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
    let eighths = (f * width as f64 * 8.0).round() as usize;
    let full = eighths / 8;
    let part = eighths % 8;
    let mut s = "█".repeat(full);
    if part > 0 && full < width {
        s.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][part - 1]);
    }
    let len = s.chars().count();
    s.push_str(&" ".repeat(width.saturating_sub(len)));
    s
}

/// Seconds as `12.3 s`, `4m05s`, `1h02m`.
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if seconds < 3600.0 {
        let s = seconds.round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let s = seconds.round() as u64;
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// The first `max` characters of the first line of `text`.
pub fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        line.chars().take(max.saturating_sub(1)).chain(['…']).collect()
    }
}

pub fn styled(text: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(text.into(), style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_numbers() {
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██  ");
        assert_eq!(bar(f64::NAN, 2), "  ");
        assert_eq!(signed(Some(0.5)), "+0.50");
        assert_eq!(duration(75.0), "1m15s");
        assert_eq!(one_line("a\n b   c", 10), "a b c");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }
}
