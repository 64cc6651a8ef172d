//! The key table: (scope, key, action). The help overlay is generated from it, and a keys
//! file can rebind any action:
//!
//! ```toml
//! [keys]
//! step = ["s", "ctrl-n"]   # replaces step's default keys, in the scopes step had
//! quit = ["q"]
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies. Scopes are searched most specific first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    /// Moving in lists and trees.
    Nav,
    Picker,
    /// Tree panes (live search and saved trees).
    Tree,
    Live,
    Browser,
    Batch,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Anywhere",
            Scope::Nav => "Lists and trees",
            Scope::Picker => "Problems",
            Scope::Tree => "Tree panes",
            Scope::Live => "Live search",
            Scope::Browser => "Saved trees",
            Scope::Batch => "Batch",
        }
    }
}

/// A key with its modifiers. Shift is folded into the character for letters and symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chord {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Chord {
    pub const fn plain(code: KeyCode) -> Chord {
        Chord { code, ctrl: false, alt: false }
    }

    pub const fn ch(c: char) -> Chord {
        Chord::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Chord {
        Chord { code: KeyCode::Char(c), ctrl: true, alt: false }
    }

    pub fn from_event(key: KeyEvent) -> Chord {
        let code = match key.code {
            // Terminals report shift-tab either way.
            KeyCode::BackTab => KeyCode::BackTab,
            KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Chord {
            code,
            ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
            alt: key.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parses `q`, `G`, `?`, `ctrl-c`, `alt-x`, `enter`, `esc`, `space`, `tab`, `backtab`,
    /// `up`, `down`, `left`, `right`, `pgup`, `pgdn`, `home`, `end`, `f1`..`f12`.
    pub fn parse(text: &str) -> Result<Chord, String> {
        let mut rest = text;
        let (mut ctrl, mut alt) = (false, false);
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            s if s.chars().count() == 1 => KeyCode::Char(s.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key '{text}'")),
        };
        Ok(Chord { code, ctrl, alt })
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("backtab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    pub scope: Scope,
    pub chord: Chord,
    pub action: Action,
}

/// The key table.
#[derive(Clone, Debug, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

/// A keys file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct KeysError {
    pub path: String,
    pub message: String,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

impl Keymap {
    pub fn defaults() -> Keymap {
        use Action as A;
        use KeyCode as K;
        use Scope as S;
        let c = Chord::ch;
        let p = Chord::plain;
        let table: Vec<(Scope, Chord, Action)> = vec![
            (S::Global, c('q'), A::Quit),
            (S::Global, Chord::ctrl('c'), A::Quit),
            (S::Global, c('?'), A::Help),
            (S::Global, p(K::Esc), A::Back),
            (S::Global, c('T'), A::ToggleTheme),
            (S::Global, c('1'), A::ScreenProblems),
            (S::Global, c('2'), A::ScreenSearch),
            (S::Global, c('3'), A::ScreenTrees),
            (S::Global, c('4'), A::ScreenBatch),
            (S::Nav, c('k'), A::Up),
            (S::Nav, p(K::Up), A::Up),
            (S::Nav, c('j'), A::Down),
            (S::Nav, p(K::Down), A::Down),
            (S::Nav, p(K::PageUp), A::PageUp),
            (S::Nav, Chord::ctrl('u'), A::PageUp),
            (S::Nav, p(K::PageDown), A::PageDown),
            (S::Nav, Chord::ctrl('d'), A::PageDown),
            (S::Nav, c('g'), A::Top),
            (S::Nav, p(K::Home), A::Top),
            (S::Nav, c('G'), A::Bottom),
            (S::Nav, p(K::End), A::Bottom),
            (S::Nav, c('h'), A::Left),
            (S::Nav, p(K::Left), A::Left),
            (S::Nav, c('l'), A::Right),
            (S::Nav, p(K::Right), A::Right),
            (S::Nav, p(K::Enter), A::Open),
            (S::Picker, c('/'), A::Filter),
            (S::Picker, c('a'), A::NextAlgorithm),
            (S::Picker, c('A'), A::PrevAlgorithm),
            (S::Picker, c('M'), A::NextModel),
            (S::Picker, c('e'), A::EditSettings),
            (S::Tree, c('z'), A::ToggleCollapse),
            (S::Tree, c('i'), A::PaneInspector),
            (S::Tree, c('c'), A::PaneSiblings),
            (S::Tree, c('d'), A::PaneCompare),
            (S::Tree, c('m'), A::Mark),
            (S::Tree, c('B'), A::GoBest),
            (S::Tree, c('P'), A::GoSelected),
            (S::Tree, c('['), A::ScrollDetailUp),
            (S::Tree, c(']'), A::ScrollDetailDown),
            (S::Live, c('s'), A::Step),
            (S::Live, c('n'), A::RunN),
            (S::Live, c('+'), A::MoreN),
            (S::Live, c('-'), A::LessN),
            (S::Live, c('r'), A::RunToEnd),
            (S::Live, c(' '), A::PauseResume),
            (S::Live, c('x'), A::Cancel),
            (S::Live, c('f'), A::Follow),
            (S::Live, c('F'), A::Freeze),
            (S::Live, c('e'), A::EditSettings),
            (S::Browser, c('o'), A::NextStrategy),
            (S::Browser, c('p'), A::TogglePrune),
            (S::Batch, c('s'), A::StartBatch),
            (S::Batch, c('x'), A::Cancel),
            (S::Batch, c('a'), A::NextAlgorithm),
            (S::Batch, c('M'), A::NextModel),
            (S::Batch, c('e'), A::EditSettings),
            (S::Batch, c('C'), A::ToggleCollect),
            (S::Batch, c('R'), A::ToggleResume),
        ];
        Keymap {
            bindings: table
                .into_iter()
                .map(|(scope, chord, action)| Binding { scope, chord, action })
                .collect(),
        }
    }

    /// The defaults with a keys file's `[keys]` table applied.
    pub fn with_overrides(text: &str, path: &str) -> Result<Keymap, KeysError> {
        let err = |message: String| KeysError { path: path.to_owned(), message };
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            keys: BTreeMap<String, Vec<String>>,
        }
        let file: File = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut map = Keymap::defaults();
        for (name, keys) in file.keys {
            let action = Action::from_name(&name).ok_or_else(|| {
                err(format!(
                    "unknown action '{name}' (known: {})",
                    Action::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
                ))
            })?;
            let chords = keys.iter().map(|k| Chord::parse(k)).collect::<Result<Vec<_>, _>>().map_err(err)?;
            let scopes: Vec<Scope> = {
                let mut s: Vec<Scope> =
                    map.bindings.iter().filter(|b| b.action == action).map(|b| b.scope).collect();
                s.dedup();
                if s.is_empty() { vec![Scope::Global] } else { s }
            };
            map.bindings.retain(|b| b.action != action);
            for scope in scopes {
                for chord in &chords {
                    map.bindings.push(Binding { scope, chord: *chord, action });
                }
            }
        }
        Ok(map)
    }

    /// Reads a keys file; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Keymap, KeysError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Keymap::with_overrides(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Keymap::defaults()),
            Err(e) => Err(KeysError { path: path.display().to_string(), message: e.to_string() }),
        }
    }

    /// The action of `chord` in the first of `scopes` that binds it.
    pub fn lookup(&self, scopes: &[Scope], chord: Chord) -> Option<Action> {
        scopes
            .iter()
            .find_map(|s| self.bindings.iter().find(|b| b.scope == *s && b.chord == chord).map(|b| b.action))
    }

    /// The keys of `action` in `scope`, for hints ("s step").
    pub fn keys_for(&self, scope: Scope, action: Action) -> Vec<Chord> {
        self.bindings.iter().filter(|b| b.scope == scope && b.action == action).map(|b| b.chord).collect()
    }

    /// First key that triggers `action` in `scopes` (not shadowed by a more specific scope),
    /// as text.
    pub fn key_for(&self, scopes: &[Scope], action: Action) -> Option<String> {
        scopes
            .iter()
            .flat_map(|s| self.keys_for(*s, action))
            .find(|c| self.lookup(scopes, *c) == Some(action))
            .map(|c| c.to_string())
    }

    /// [`Keymap::key_for`], or `?` when no key triggers it.
    pub fn hint(&self, scopes: &[Scope], action: Action) -> String {
        self.key_for(scopes, action).unwrap_or_else(|| "?".to_owned())
    }

    /// Help sections: per scope, each action with its keys, in table order.
    pub fn help(&self) -> Vec<(Scope, Vec<(String, Action)>)> {
        let scopes = [
            Scope::Global,
            Scope::Nav,
            Scope::Picker,
            Scope::Live,
            Scope::Tree,
            Scope::Browser,
            Scope::Batch,
        ];
        scopes
            .iter()
            .map(|scope| {
                let mut rows: Vec<(String, Action)> = Vec::new();
                for b in self.bindings.iter().filter(|b| b.scope == *scope) {
                    if rows.iter().any(|(_, a)| *a == b.action) {
                        continue;
                    }
                    let keys: Vec<String> =
                        self.keys_for(*scope, b.action).iter().map(ToString::to_string).collect();
                    rows.push((keys.join(" "), b.action));
                }
                (*scope, rows)
            })
            .filter(|(_, rows)| !rows.is_empty())
            .collect()
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_key_and_a_description() {
        let map = Keymap::defaults();
        for action in Action::ALL {
            assert!(map.bindings().iter().any(|b| b.action == action), "{action:?} has no key");
            assert!(!action.describe().is_empty());
            assert_eq!(Action::from_name(action.name()), Some(action));
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        let map = Keymap::defaults();
        for (i, a) in map.bindings().iter().enumerate() {
            for b in &map.bindings()[i + 1..] {
                assert!(!(a.scope == b.scope && a.chord == b.chord), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn specific_scopes_win_and_overrides_replace_keys() {
        let map = Keymap::defaults();
        let live = [Scope::Live, Scope::Tree, Scope::Nav, Scope::Global];
        assert_eq!(map.lookup(&live, Chord::ch('s')), Some(Action::Step));
        assert_eq!(
            map.lookup(&[Scope::Batch, Scope::Nav, Scope::Global], Chord::ch('s')),
            Some(Action::StartBatch)
        );
        assert_eq!(map.lookup(&live, Chord::ch('q')), Some(Action::Quit));
        let map = Keymap::with_overrides("[keys]\nstep = [\"S\", \"ctrl-n\"]\n", "k.toml").unwrap();
        assert_eq!(map.lookup(&live, Chord::ch('s')), None);
        assert_eq!(map.lookup(&live, Chord::ch('S')), Some(Action::Step));
        assert_eq!(map.lookup(&live, Chord::ctrl('n')), Some(Action::Step));
        let err = Keymap::with_overrides("[keys]\nstepp = [\"s\"]\n", "k.toml").unwrap_err();
        assert!(err.to_string().contains("unknown action 'stepp'"), "{err}");
        let err = Keymap::with_overrides("[keys]\nstep = [\"ctrl-\"]\n", "k.toml").unwrap_err();
        assert!(err.to_string().contains("unknown key"), "{err}");
    }

    #[test]
    fn chords_parse_and_print() {
        for text in ["q", "G", "?", "ctrl-c", "enter", "space", "pgdn", "f5", "alt-x"] {
            let chord = Chord::parse(text).unwrap();
            assert_eq!(Chord::parse(&chord.to_string().replace('↑', "up")).unwrap(), chord, "{text}");
        }
        assert!(Chord::parse("hyper-x").is_err());
    }
}
