//! Colours. Two themes (dark, light); values map onto a red → yellow → green scale.

use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThemeName {
    Dark,
    Light,
}

impl ThemeName {
    pub fn parse(s: &str) -> Option<ThemeName> {
        match s {
            "dark" => Some(ThemeName::Dark),
            "light" => Some(ThemeName::Light),
            _ => None,
        }
    }
}

/// The styles every view uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Theme {
    pub name: ThemeName,
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub focus_border: Style,
    pub selected: Style,
    pub key: Style,
    pub good: Style,
    pub bad: Style,
    pub warn: Style,
    pub accent: Style,
    /// Nodes on the path PUCT selects next.
    pub puct_path: Style,
    /// Nodes on the best path.
    pub best_path: Style,
    /// Code highlighting theme of syntect.
    pub syntax: &'static str,
}

impl Theme {
    pub fn new(name: ThemeName) -> Theme {
        match name {
            ThemeName::Dark => Theme {
                name,
                text: Style::new().fg(Color::Gray),
                dim: Style::new().fg(Color::DarkGray),
                title: Style::new().fg(Color::White).add_modifier(Modifier::BOLD),
                border: Style::new().fg(Color::DarkGray),
                focus_border: Style::new().fg(Color::Cyan),
                selected: Style::new().bg(Color::Indexed(237)).add_modifier(Modifier::BOLD),
                key: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                good: Style::new().fg(Color::Green),
                bad: Style::new().fg(Color::Red),
                warn: Style::new().fg(Color::Yellow),
                accent: Style::new().fg(Color::Magenta),
                puct_path: Style::new().fg(Color::Cyan),
                best_path: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                syntax: "base16-ocean.dark",
            },
            ThemeName::Light => Theme {
                name,
                text: Style::new().fg(Color::Black),
                dim: Style::new().fg(Color::Gray),
                title: Style::new().fg(Color::Black).add_modifier(Modifier::BOLD),
                border: Style::new().fg(Color::Gray),
                focus_border: Style::new().fg(Color::Blue),
                selected: Style::new().bg(Color::Indexed(254)).add_modifier(Modifier::BOLD),
                key: Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD),
                good: Style::new().fg(Color::Green),
                bad: Style::new().fg(Color::Red),
                warn: Style::new().fg(Color::Indexed(130)),
                accent: Style::new().fg(Color::Magenta),
                puct_path: Style::new().fg(Color::Blue),
                best_path: Style::new().fg(Color::Indexed(130)).add_modifier(Modifier::BOLD),
                syntax: "InspiredGitHub",
            },
        }
    }

    /// A colour for a value in [-1, 1]: red below zero, yellow around it, green above.
    pub fn value_color(&self, v: f64) -> Color {
        let v = v.clamp(-1.0, 1.0);
        if v >= 0.5 {
            Color::Green
        } else if v >= 0.1 {
            Color::Indexed(if self.name == ThemeName::Dark { 150 } else { 64 })
        } else if v > -0.1 {
            Color::Yellow
        } else if v > -0.5 {
            Color::Indexed(208)
        } else {
            Color::Red
        }
    }
}
