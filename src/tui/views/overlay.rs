//! What draws over a screen: the settings form, the help overlay, error popups.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::styled;
use crate::tui::app::{App, Screen};
use crate::tui::form::Form;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let form = match app.screen {
        Screen::Search => app.live.as_ref().and_then(|l| l.form.as_ref()),
        Screen::Problems => app.picker.form.as_ref(),
        _ => None,
    };
    if let Some(form) = form {
        render_form(app, form, frame, area);
    }
    if app.help {
        render_help(app, frame, area);
    }
    if let Some(popup) = &app.popup {
        let t = &app.theme;
        let rect = centered(area, 64, 9);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.bad)
            .title(Span::styled(format!(" {} ", popup.title), t.bad))
            .title_bottom(Line::styled(" Enter/Esc close ", t.dim));
        frame.render_widget(
            Paragraph::new(popup.message.clone()).style(t.text).wrap(Wrap { trim: true }).block(block),
            rect,
        );
    }
}

/// A rectangle of at most `width` × `height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(v);
    h
}

fn render_form(app: &App, form: &Form, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let rect = centered(area, 72, area.height.saturating_sub(4).max(8));
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus_border)
        .title(Span::styled(format!(" {} ", form.title), t.title))
        .title_bottom(Line::styled(" ↑↓ choose · Enter edit · Enter apply · Esc done ", t.dim));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [list, foot] = Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
    let height = list.height as usize;
    let mut offset = form.scroll.get();
    if form.selected < offset {
        offset = form.selected;
    } else if form.selected >= offset + height {
        offset = form.selected + 1 - height;
    }
    form.scroll.set(offset);
    let lines: Vec<Line> = form
        .fields
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, (k, v))| {
            let selected = i == form.selected;
            let value = match (&form.editing, selected) {
                (Some(text), true) => format!("{text}▏"),
                _ => v.clone(),
            };
            let style = if selected { t.selected } else { t.text };
            Line::from(vec![styled(format!("{k:>26} = "), t.dim), styled(value, style)]).style(style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    let foot_text = match &form.error {
        Some(e) => Line::styled(e.clone(), t.bad),
        None if !form.changes.is_empty() => {
            Line::styled(format!("changed: {}", form.changes.join(", ")), t.accent)
        }
        None => Line::styled("values in TOML syntax, as --set takes them", t.dim),
    };
    frame.render_widget(Paragraph::new(foot_text).wrap(Wrap { trim: true }), foot);
}

fn render_help(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let rect = centered(area, 84, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus_border)
        .title(Span::styled(" Keys (from the keymap; rebind them in ~/.config/arbor/keys.toml) ", t.title))
        .title_bottom(Line::styled(" j/k scroll · any other key closes ", t.dim));
    let mut lines: Vec<Line> = Vec::new();
    for (scope, rows) in app.keymap.help() {
        lines.push(Line::styled(scope.title().to_owned(), t.title));
        for (keys, action) in rows {
            lines.push(Line::from(vec![
                styled(format!("  {keys:<16}"), t.key),
                styled(action.describe().to_owned(), t.text),
                styled(format!("  ({})", action.name()), t.dim),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::styled("Mouse: click a row to select it, click a tab, wheel to scroll.", t.dim));
    frame.render_widget(Paragraph::new(lines).scroll((app.help_scroll, 0)).block(block), rect);
}
