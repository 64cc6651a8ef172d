//! The right-hand pane: the node inspector, the siblings side by side, or two marked paths
//! compared step by step.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::tree::badges;
use super::{bar, one_line, signed, styled};
use crate::grade;
use crate::tree::{NodeId, StepParts, TerminalReason};
use crate::tui::app::App;
use crate::tui::highlight;
use crate::tui::theme::Theme;
use crate::tui::tree_pane::{Pane, TreePane};

pub fn render(app: &App, pane: &TreePane, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let (title, text) = match pane.pane {
        Pane::Inspector => (" Node ", inspector(t, pane)),
        Pane::Siblings => (" Siblings ", siblings(t, pane)),
        Pane::Compare => (" Compare marked paths ", compare(t, pane)),
    };
    let tabs = Line::from(vec![
        tab(t, "i inspector", pane.pane == Pane::Inspector),
        tab(t, "c siblings", pane.pane == Pane::Siblings),
        tab(t, "d compare", pane.pane == Pane::Compare),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(title, t.title))
        .title_bottom(tabs);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).scroll((pane.detail_scroll, 0)).block(block),
        area,
    );
}

fn tab(t: &Theme, label: &str, on: bool) -> Span<'static> {
    styled(format!(" {label} "), if on { t.selected.patch(t.key) } else { t.dim })
}

fn section(t: &Theme, title: &str, extra: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![styled(title.to_owned(), t.title.add_modifier(Modifier::UNDERLINED))];
    spans.extend(extra);
    Line::from(spans)
}

fn kv(t: &Theme, key: &str, value: String) -> Vec<Span<'static>> {
    vec![styled(format!("{key} "), t.dim), styled(format!("{value}  "), t.text)]
}

fn inspector(t: &Theme, pane: &TreePane) -> Text<'static> {
    let mut text = Text::default();
    let Some(node) = pane.tree.get(pane.selected) else {
        text.push_line(Line::styled("The tree is empty so far.", t.dim));
        return text;
    };
    let id = pane.selected;
    let s = node.stats();
    let on_best = pane.best_path().contains(&id);
    let on_puct = pane.puct_path().contains(&id);
    let mut head =
        vec![styled(format!("{} ", node.tag()), t.title), styled(format!("depth {} ", node.depth()), t.dim)];
    head.extend(badges(t, node));
    if on_best {
        head.push(styled(" ★ best path", t.best_path));
    }
    if on_puct {
        head.push(styled(" ▸ PUCT path", t.puct_path));
    }
    text.push_line(Line::from(head));
    let mut nums = kv(t, "V", signed(s.value));
    nums.extend(kv(t, "Q", format!("{:+.3}", s.q_value)));
    nums.extend(kv(t, "N", s.visit_count.to_string()));
    nums.extend(kv(t, "prior", format!("{:.3}", s.prior)));
    text.push_line(Line::from(nums));
    let mut facts = Vec::new();
    if let Some(g) = &node.info().generation {
        facts.extend(kv(t, "tokens", g.tokens.to_string()));
        facts.extend(kv(t, "gen", format!("{:.0} ms", g.elapsed_ms)));
        if let Some(f) = &g.finish {
            facts.extend(kv(t, "stop", f.clone()));
        }
    }
    if let Some(n) = node.info().merged {
        facts.extend(kv(t, "merged", format!("{n} samples")));
    }
    if !facts.is_empty() {
        text.push_line(Line::from(facts));
    }

    let parts = StepParts::of(node);
    if id == NodeId::ROOT {
        text.push_line(Line::default());
        text.push_line(section(t, "Question", vec![]));
        let q =
            node.step().extra_info.strip_prefix("question: ").unwrap_or(&node.step().extra_info).to_owned();
        for l in q.lines() {
            text.push_line(Line::styled(l.to_owned(), t.text));
        }
    }
    if !parts.thought.is_empty() {
        text.push_line(Line::default());
        text.push_line(section(t, "Thought", vec![]));
        for l in parts.thought.lines() {
            text.push_line(Line::styled(l.to_owned(), t.text));
        }
    }
    if let Some(code) = parts.code {
        text.push_line(Line::default());
        text.push_line(section(t, "Code", vec![styled(" python", t.dim)]));
        for l in highlight::python(code, t.syntax, t.text) {
            let mut spans = vec![styled("  ", t.dim)];
            spans.extend(l.spans);
            text.push_line(Line::from(spans));
        }
    }
    if let Some(obs) = parts.observation {
        text.push_line(Line::default());
        let status = match &node.info().execution {
            Some(e) => {
                let style = match e.status {
                    crate::tree::ExecStatus::Ok => t.good,
                    _ => t.bad,
                };
                vec![
                    styled(format!(" {:?}", e.status).to_lowercase(), style),
                    styled(format!(" · {:.1} ms", e.elapsed_ms), t.dim),
                ]
            }
            None if crate::tree::observation_is_error(obs) => vec![styled(" error", t.bad)],
            None => vec![],
        };
        text.push_line(section(t, "Output", status));
        for l in obs.lines() {
            text.push_line(Line::styled(format!("  {l}"), t.text));
        }
    }
    if let Some(answer) = parts.answer {
        text.push_line(Line::default());
        let gt = &pane.ground_truth;
        let verdict = node.info().correct.or_else(|| {
            (gt.is_known() && node.terminal() == Some(TerminalReason::FinalAnswer))
                .then(|| grade::is_equiv_any(gt.accepted(), answer))
        });
        let (mark, style) = match verdict {
            Some(true) => ("✓", t.good),
            Some(false) => ("✗", t.bad),
            None => ("", t.text),
        };
        text.push_line(section(t, "Answer", vec![]));
        text.push_line(Line::from(vec![
            styled(format!("  {answer} {mark}"), style.add_modifier(Modifier::BOLD)),
            styled(format!("   ground truth {gt}"), t.dim),
        ]));
    }
    if let Some(reason) = node.terminal() {
        text.push_line(Line::from(vec![styled("terminal ", t.dim), styled(format!("{reason:?}"), t.text)]));
    }
    if let Some(ev) = &node.info().evaluation {
        text.push_line(Line::default());
        text.push_line(section(t, "Evaluation", vec![styled(format!(" λ={}", ev.lambda), t.dim)]));
        let mut parts = kv(t, "critic", format!("{:+.3}", ev.critic));
        if let Some(v) = ev.value {
            parts.extend(kv(t, "V", format!("{v:+.3}")));
        }
        if let Some(v) = ev.prm {
            parts.extend(kv(t, "PRM", format!("{v:.3}")));
        }
        if let Some(v) = ev.orm {
            parts.extend(kv(t, "ORM", format!("{v:.3}")));
        }
        parts.extend(kv(t, "estimate", format!("{:+.3}", ev.estimate)));
        text.push_line(Line::from(parts));
        for (i, r) in ev.rollouts.iter().enumerate() {
            text.push_line(Line::styled(
                format!(
                    "  rollout {i}: {} steps, outcome {}, {}",
                    r.steps,
                    signed(r.outcome),
                    if r.final_answer.is_empty() { "no answer" } else { &r.final_answer }
                ),
                t.dim,
            ));
        }
    }
    if !node.is_leaf() {
        text.push_line(Line::default());
        text.push_line(section(
            t,
            "Children",
            vec![styled(format!(" PUCT = Q + {}·P·√N(parent)/(1+N)", pane.c_puct), t.dim)],
        ));
        text.push_line(Line::styled(
            format!("  {:<11} {:>7} {:>7} {:>7} {:>5} {:>6}", "tag", "Q", "U", "PUCT", "N", "prior"),
            t.dim,
        ));
        let parts = pane.puct_breakdown(id);
        let best = parts
            .iter()
            .filter(|(c, _, _)| pane.tree.node(*c).terminal().is_none())
            .map(|(_, q, u)| q + u)
            .fold(f64::NEG_INFINITY, f64::max);
        for (c, q, u) in parts {
            let child = pane.tree.node(c);
            let terminal = child.terminal().is_some();
            let pick = !terminal && (q + u) == best;
            let (mark, style) = if pick {
                ("▸", t.puct_path.add_modifier(Modifier::BOLD))
            } else if terminal {
                ("■", t.dim)
            } else {
                (" ", t.text)
            };
            text.push_line(Line::styled(
                format!(
                    "{mark} {:<11} {:>+7.2} {:>+7.2} {:>+7.2} {:>5} {:>6.3}",
                    one_line(child.tag(), 11),
                    q,
                    u,
                    q + u,
                    child.stats().visit_count,
                    child.stats().prior,
                ),
                style,
            ));
        }
        text.push_line(Line::styled("▸ PUCT picks this child next · ■ terminal, never selected", t.dim));
    }
    text
}

fn siblings(t: &Theme, pane: &TreePane) -> Text<'static> {
    let mut text = Text::default();
    let Some(node) = pane.tree.get(pane.selected) else { return text };
    let ids: Vec<NodeId> = match node.parent() {
        Some(p) => pane.tree.node(p).children().to_vec(),
        None => vec![pane.selected],
    };
    let stats = pane.tree.sibling_stats(pane.selected);
    text.push_line(Line::from(vec![
        styled(format!("{} siblings", stats.count), t.title),
        styled(format!("  rank by Q {} of {}", stats.rank_by_q + 1, stats.count), t.dim),
    ]));
    text.push_line(Line::styled(
        "bars: V and Q on [-1, 1], N relative to the most visited, prior on [0, 1]",
        t.dim,
    ));
    let max_n = stats.visits.max.max(1.0);
    for id in ids {
        let n = pane.tree.node(id);
        let s = n.stats();
        let selected = id == pane.selected;
        let style = if selected { t.selected } else { t.text };
        text.push_line(Line::default());
        let mut head = vec![styled(format!("{} ", n.tag()), style.add_modifier(Modifier::BOLD))];
        head.extend(badges(t, n));
        let parts = StepParts::of(n);
        let headline =
            parts.answer.map(|a| format!("answer: {a}")).unwrap_or_else(|| parts.headline().to_owned());
        head.push(styled(format!(" {}", one_line(&headline, 40)), style));
        text.push_line(Line::from(head));
        let value_bar = |label: &str, v: Option<f64>, style: Style| -> Line<'static> {
            Line::from(vec![
                styled(format!("  {label:<5} "), t.dim),
                styled(bar(v.map_or(0.0, |v| (v + 1.0) / 2.0), 16), style),
                styled(format!(" {}", signed(v)), t.text),
            ])
        };
        let vstyle = Style::new().fg(t.value_color(s.value.unwrap_or(0.0)));
        let qstyle = Style::new().fg(t.value_color(s.q_value));
        text.push_line(value_bar("V", s.value, vstyle));
        text.push_line(value_bar("Q", (s.visit_count > 0).then_some(s.q_value), qstyle));
        text.push_line(Line::from(vec![
            styled("  N     ", t.dim),
            styled(bar(f64::from(s.visit_count) / max_n, 16), t.accent),
            styled(format!(" {}", s.visit_count), t.text),
        ]));
        text.push_line(Line::from(vec![
            styled("  prior ", t.dim),
            styled(bar(s.prior, 16), t.key),
            styled(format!(" {:.3}", s.prior), t.text),
        ]));
    }
    text
}

fn compare(t: &Theme, pane: &TreePane) -> Text<'static> {
    let mut text = Text::default();
    let [Some(a), Some(b)] = pane.marks else {
        text.push_line(Line::styled("Mark two nodes with m (move, m, move, m) to compare", t.dim));
        text.push_line(Line::styled("their paths from the root step by step.", t.dim));
        if let Some(a) = pane.marks[0] {
            text.push_line(Line::default());
            text.push_line(Line::styled(format!("marked: {}", pane.tree.node(a).tag()), t.accent));
        }
        return text;
    };
    let pa = pane.tree.path(a);
    let pb = pane.tree.path(b);
    let shared = pa.iter().zip(&pb).take_while(|(x, y)| x == y).count();
    text.push_line(Line::from(vec![
        styled("A ", t.key),
        styled(pane.tree.node(a).tag().to_owned(), t.text),
        styled("   B ", t.key),
        styled(pane.tree.node(b).tag().to_owned(), t.text),
        styled(format!("   shared steps: {}", shared.saturating_sub(1)), t.dim),
    ]));
    let depth = pa.len().max(pb.len());
    for d in 1..depth {
        text.push_line(Line::default());
        let diverged = d >= shared;
        text.push_line(Line::styled(
            format!("step {d}{}", if diverged { "" } else { " (shared)" }),
            if diverged { t.title } else { t.dim },
        ));
        for (label, path) in [("A", &pa), ("B", &pb)] {
            if !diverged && label == "B" {
                continue;
            }
            let Some(&id) = path.get(d) else {
                text.push_line(Line::styled(format!("  {label} —"), t.dim));
                continue;
            };
            let n = pane.tree.node(id);
            let s = n.stats();
            let parts = StepParts::of(n);
            let mut what =
                parts.answer.map(|a| format!("answer: {a}")).unwrap_or_else(|| parts.headline().to_owned());
            if let Some(obs) = parts.observation {
                what.push_str(&format!(" → {}", obs.trim()));
            }
            let colour = Style::new().fg(t.value_color(if s.visit_count > 0 {
                s.q_value
            } else {
                s.value.unwrap_or(0.0)
            }));
            let mut spans = vec![
                styled(format!("  {label} "), t.key),
                styled(format!("{:<8}", n.tag()), colour),
                styled(format!(" V{} Q{:+.2} N{} ", signed(s.value), s.q_value, s.visit_count), colour),
            ];
            spans.extend(badges(t, n));
            spans.push(styled(format!(" {}", one_line(&what, 60)), t.text));
            text.push_line(Line::from(spans));
        }
    }
    text
}
