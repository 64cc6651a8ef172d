//! The batch panel: the run's settings, its progress, and the results table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Row, Table};

use super::{duration, styled};
use crate::tui::app::{App, HitAreas};
use crate::tui::batch::{FIELDS, Field, RunState};
use crate::tui::picker::ALGORITHMS;

pub fn render(app: &App, frame: &mut Frame, area: Rect, hits: &mut HitAreas) {
    let t = &app.theme;
    let b = &app.batch;
    let [top, results] = Layout::vertical([Constraint::Length(12), Constraint::Min(4)]).areas(area);
    let [form_area, progress_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);

    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.focus_border)
        .title(Span::styled(" Batch run ", t.title));
    let inner = block.inner(form_area);
    frame.render_widget(block, form_area);
    hits.list = inner;
    let mut lines: Vec<Line> = Vec::new();
    for (i, field) in FIELDS.iter().enumerate() {
        let value = match field {
            Field::Dataset => b
                .datasets
                .get(b.dataset)
                .map_or_else(|| "(none: pass --data FILE)".to_owned(), |d| d.0.clone()),
            Field::Algorithm => ALGORITHMS[b.algorithm].0.to_owned(),
            Field::Model => app
                .models
                .get(app.model)
                .map_or_else(|| "(no model: --model PATH or --demo)".to_owned(), |m| m.name.clone()),
            Field::Kind => {
                if b.collect { "collection (ground-truth rewards)" } else { "evaluation" }.to_owned()
            }
            Field::Runs => b.runs.to_string(),
            Field::Limit => b.limit.map_or_else(|| "all problems".to_owned(), |l| l.to_string()),
            Field::Output => b.out.clone(),
            Field::Resume => if b.resume {
                "on (skip problems already in the file)"
            } else {
                "off (the file must not exist)"
            }
            .to_owned(),
        };
        let selected = i == b.field;
        let value = match (&b.editing, selected) {
            (Some(text), true) => format!("{text}▏"),
            _ => value,
        };
        let arrows = if selected && !field.is_text() { "‹ › " } else { "    " };
        let style = if selected { t.selected } else { t.text };
        lines.push(
            Line::from(vec![
                styled(format!("{:>17} ", field.label()), t.dim),
                styled(arrows, t.key),
                styled(value, style),
            ])
            .style(style),
        );
    }
    if let Some(e) = &b.error {
        lines.push(Line::styled(e.clone(), t.bad));
    }
    frame.render_widget(Paragraph::new(lines), inner);

    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(" Progress ", t.title));
    let inner = block.inner(progress_area);
    frame.render_widget(block, progress_area);
    match &b.run {
        None => frame.render_widget(
            Paragraph::new(vec![
                Line::styled("No run yet.", t.dim),
                Line::styled("Choose the settings on the left (↑↓ field, ←→ change, Enter edit),", t.dim),
                Line::styled("then press s to start; x cancels, the trees written so far stay.", t.dim),
            ]),
            inner,
        ),
        Some(run) => {
            let [gauge_area, text_area] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
            let ratio = if run.total > 0 { run.finished as f64 / run.total as f64 } else { 0.0 };
            frame.render_widget(
                Gauge::default()
                    .gauge_style(t.good)
                    .ratio(ratio.clamp(0.0, 1.0))
                    .label(format!("{}/{}", run.finished, run.total)),
                gauge_area,
            );
            let state = match run.state {
                RunState::Loading => styled("loading the model", t.warn),
                RunState::Running => styled("running", t.good),
                RunState::Cancelling => styled("cancelling after this round", t.warn),
                RunState::Done => styled("done", t.good),
                RunState::Cancelled => styled("cancelled (resume continues it)", t.warn),
                RunState::Failed => styled("failed", t.bad),
            };
            let accuracy = run.accuracy().map_or_else(
                || "–".to_owned(),
                |a| format!("{:.1}% ({}/{})", a * 100.0, run.correct, run.graded),
            );
            let eta = match run.state {
                RunState::Running => run.eta().map_or_else(|| "–".to_owned(), duration),
                _ => "–".to_owned(),
            };
            let mut lines = vec![
                Line::from(vec![styled(format!("{} ", run.label), t.accent), state]),
                Line::from(vec![styled("accuracy ", t.dim), styled(accuracy, t.text)]),
                Line::from(vec![
                    styled("elapsed ", t.dim),
                    styled(duration(run.elapsed.as_secs_f64()), t.text),
                    styled("   ETA ", t.dim),
                    styled(eta, t.text),
                ]),
                Line::from(vec![
                    styled("already in the file ", t.dim),
                    styled(run.skipped.to_string(), t.text),
                ]),
                Line::from(vec![styled("trees → ", t.dim), styled(run.out.display().to_string(), t.text)]),
            ];
            if let Some(m) = &run.message {
                lines.push(Line::styled(m.clone(), t.bad));
            }
            frame.render_widget(Paragraph::new(lines), text_area);
        }
    }

    let header =
        Row::new(["method", "dataset", "trees", "accuracy", "avg. time (s) per q", "avg. steps", "# sols"])
            .style(t.dim);
    let rows: Vec<Row> = b
        .results
        .iter()
        .map(|r| {
            Row::new(vec![
                format!("{}{}", r.method, if r.cancelled { " (partial)" } else { "" }),
                r.dataset.clone(),
                r.trees.to_string(),
                r.accuracy.map_or_else(|| "–".to_owned(), |a| format!("{:.2}", a * 100.0)),
                r.avg_seconds.map_or_else(|| "–".to_owned(), |s| format!("{s:.1}")),
                r.avg_steps.map_or_else(|| "–".to_owned(), |s| format!("{s:.1}")),
                r.solutions.clone(),
            ])
            .style(t.text)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(18),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Length(20),
            Constraint::Length(11),
            Constraint::Length(8),
        ],
    )
    .header(header)
    .block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(Span::styled(" Results ", t.title)),
    );
    frame.render_widget(table, results);
}
