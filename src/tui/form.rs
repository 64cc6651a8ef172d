//! The settings form: every key of a `SearchConfig` as `key = value` (TOML spelling), edited
//! one at a time and applied with `SearchConfig::set`, so the form accepts exactly what
//! `--set` accepts and reports the same errors.

use crate::search::config::SearchConfig;

#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub title: String,
    pub config: SearchConfig,
    /// (key, value as TOML) in the config's field order.
    pub fields: Vec<(String, String)>,
    pub selected: usize,
    /// The text being typed for the selected field.
    pub editing: Option<String>,
    pub error: Option<String>,
    /// Assignments made, in order, for `Configure` between iterations.
    pub changes: Vec<String>,
    pub scroll: std::cell::Cell<usize>,
}

/// The config as (key, TOML value) pairs, sorted by key; unset optional keys are left out.
pub fn fields_of(config: &SearchConfig) -> Vec<(String, String)> {
    match toml::Table::try_from(config) {
        Ok(table) => table.into_iter().map(|(k, v)| (k, spell(&v))).collect(),
        Err(_) => Vec::new(),
    }
}

/// A value in TOML syntax; `f32` settings keep their short spelling (0.6, not
/// 0.6000000238418579).
fn spell(value: &toml::Value) -> String {
    match value {
        toml::Value::Float(f) if f64::from(*f as f32) == *f => {
            let short = format!("{}", *f as f32);
            if short.contains(['.', 'e', 'n', 'i']) { short } else { format!("{short}.0") }
        }
        other => other.to_string(),
    }
}

impl Form {
    pub fn new(title: impl Into<String>, config: SearchConfig) -> Form {
        Form {
            title: title.into(),
            fields: fields_of(&config),
            config,
            selected: 0,
            editing: None,
            error: None,
            changes: Vec::new(),
            scroll: std::cell::Cell::new(0),
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.fields.is_empty() {
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, self.fields.len() as isize - 1) as usize;
    }

    /// Starts editing the selected value.
    pub fn edit(&mut self) {
        self.editing = self.fields.get(self.selected).map(|(_, v)| v.clone());
        self.error = None;
    }

    pub fn type_char(&mut self, c: char) {
        if let Some(text) = &mut self.editing {
            text.push(c);
        }
    }

    pub fn backspace(&mut self) {
        if let Some(text) = &mut self.editing {
            text.pop();
        }
    }

    pub fn cancel_edit(&mut self) {
        self.editing = None;
        self.error = None;
    }

    /// Applies the typed value; on error the text stays for correction.
    pub fn commit(&mut self) {
        let Some(text) = self.editing.clone() else { return };
        let Some((key, old)) = self.fields.get(self.selected).cloned() else { return };
        if text == old {
            self.editing = None;
            return;
        }
        let assignment = format!("{key}={text}");
        let mut changed = self.config.clone();
        match changed.set(&assignment).and_then(|()| changed.validate()) {
            Ok(()) => {
                self.config = changed;
                self.fields = fields_of(&self.config);
                self.changes.push(assignment);
                self.editing = None;
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_go_through_set_and_validate() {
        let mut form = Form::new("mcts", crate::search::presets::load("mcts").unwrap());
        let at = form.fields.iter().position(|(k, _)| k == "iterations").unwrap();
        form.selected = at;
        form.edit();
        assert_eq!(form.editing.as_deref(), Some("40"));
        form.backspace();
        form.backspace();
        form.type_char('0');
        form.commit();
        assert!(
            form.error.as_deref().is_some_and(|e| e.contains("iterations must be at least 1")),
            "{:?}",
            form.error
        );
        assert_eq!(form.config.iterations, 40, "a rejected value changes nothing");
        form.backspace();
        form.type_char('7');
        form.commit();
        assert_eq!(form.config.iterations, 7);
        assert_eq!(form.changes, vec!["iterations=7".to_owned()]);
        assert_eq!(form.fields[at].1, "7");
        let t = form.fields.iter().find(|(k, _)| k == "temperature").unwrap();
        assert_eq!(t.1, "0.6", "f32 settings keep their short spelling");
    }
}
