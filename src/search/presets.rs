//! The search presets of `configs/`, built into the binary so `--config mcts` works anywhere.

use super::config::{ConfigError, SearchConfig};

/// (name, TOML) of every preset, named after the reference's config files.
pub const PRESETS: [(&str, &str); 7] = [
    ("greedy", include_str!("../../configs/greedy.toml")),
    ("react", include_str!("../../configs/react.toml")),
    ("sbs", include_str!("../../configs/sbs.toml")),
    ("mcts", include_str!("../../configs/mcts.toml")),
    ("mcts_round", include_str!("../../configs/mcts_round.toml")),
    ("mcts_train", include_str!("../../configs/mcts_train.toml")),
    ("eta_mcts", include_str!("../../configs/eta_mcts.toml")),
];

/// A preset by name, or a TOML file by path.
pub fn load(name_or_path: &str) -> Result<SearchConfig, ConfigError> {
    if let Some((name, text)) = PRESETS.iter().find(|(n, _)| *n == name_or_path) {
        return SearchConfig::from_toml(text, &format!("configs/{name}.toml"));
    }
    let text = std::fs::read_to_string(name_or_path).map_err(|e| ConfigError::Parse {
        path: name_or_path.to_owned(),
        message: format!(
            "{e} (not a file, and not a preset: {})",
            PRESETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ),
    })?;
    SearchConfig::from_toml(&text, name_or_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_validates() {
        for (name, _) in PRESETS {
            let config = load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            config.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(load("mctz").unwrap_err().to_string().contains("not a preset: greedy, react"));
    }
}
