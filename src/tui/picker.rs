//! The problem picker's state: problems from every source, a fuzzy filter, the algorithm
//! and its settings, the model.

use std::cell::Cell;

use super::form::Form;
use super::fuzzy;
use crate::problems::Problem;
use crate::search::config::{LeafValue, SearchConfig};
use crate::search::presets;

/// The algorithms offered, each a preset with adjustments.
pub const ALGORITHMS: [(&str, &str); 5] =
    [("greedy", "greedy"), ("maj@5", "greedy"), ("SBS", "sbs"), ("MCTS", "mcts"), ("η-MCTS", "eta_mcts")];

/// The settings of algorithm `index` (0-based in [`ALGORITHMS`]).
pub fn algorithm_config(index: usize, no_value: bool) -> SearchConfig {
    let (label, preset) = ALGORITHMS[index.min(ALGORITHMS.len() - 1)];
    let mut config = presets::load(preset).unwrap_or_default();
    if label == "maj@5" {
        // Five sampled chains voted on: the reference's Maj@5 row.
        for a in ["mode=sample", "n_generate_sample=5", "temperature=0.6"] {
            let _ = config.set(a);
        }
    }
    if no_value {
        config.need_value_func = false;
        config.leaf_value = LeafValue::None;
    }
    config
}

/// One problem and the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub source: String,
    pub problem: Problem,
}

pub struct Picker {
    pub items: Vec<Item>,
    pub filter: String,
    pub filtering: bool,
    /// Indices into `items` that pass the filter, best match first.
    pub visible: Vec<usize>,
    /// Position in `visible`.
    pub selected: usize,
    pub offset: Cell<usize>,
    pub viewport: Cell<usize>,
    pub algorithm: usize,
    /// The settings of each algorithm, as edited.
    pub configs: Vec<SearchConfig>,
    pub form: Option<Form>,
    /// Files that could not be read, and other notes shown under the list.
    pub notes: Vec<String>,
}

impl Picker {
    pub fn new(items: Vec<Item>, notes: Vec<String>, no_value: bool) -> Picker {
        let visible = (0..items.len()).collect();
        Picker {
            items,
            filter: String::new(),
            filtering: false,
            visible,
            selected: 0,
            offset: Cell::new(0),
            viewport: Cell::new(20),
            algorithm: 2,
            configs: (0..ALGORITHMS.len()).map(|i| algorithm_config(i, no_value)).collect(),
            form: None,
            notes,
        }
    }

    pub fn current(&self) -> Option<&Item> {
        self.visible.get(self.selected).map(|i| &self.items[*i])
    }

    pub fn config(&self) -> &SearchConfig {
        &self.configs[self.algorithm]
    }

    pub fn algorithm_label(&self) -> &'static str {
        ALGORITHMS[self.algorithm].0
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.visible.is_empty() {
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, self.visible.len() as isize - 1) as usize;
    }

    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        let texts: Vec<String> = self
            .items
            .iter()
            .map(|i| format!("{} {} {}", i.problem.id, i.source, i.problem.question))
            .collect();
        self.visible = fuzzy::filter(&self.filter, texts.iter().map(String::as_str));
        self.selected = 0;
        self.offset.set(0);
    }

    pub fn cycle_algorithm(&mut self, forward: bool) {
        let n = ALGORITHMS.len();
        self.algorithm = if forward { (self.algorithm + 1) % n } else { (self.algorithm + n - 1) % n };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::config::Mode;

    #[test]
    fn every_algorithm_has_valid_settings() {
        for (i, (label, _)) in ALGORITHMS.iter().enumerate() {
            let c = algorithm_config(i, false);
            c.validate().unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        assert_eq!(algorithm_config(1, false).mode, Mode::Sample);
        assert_eq!(algorithm_config(1, false).n_generate_sample, 5);
        let plain = algorithm_config(3, true);
        assert!(!plain.need_value_func && plain.leaf_value == LeafValue::None);
    }
}
