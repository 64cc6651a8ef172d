//! `arbor` with no subcommand (the TUI on the problem picker) and `arbor view FILE` (the TUI
//! on a saved tree file).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::model_args::ModelArgs;
use super::run::{BackendChoice, open_backends};
use crate::search::config::SearchConfig;
use crate::tui::keymap::Keymap;
use crate::tui::theme::ThemeName;
use crate::tui::{self, LoaderFactory, ModelChoice, Options};

/// Options of the terminal UI.
#[derive(Debug, Clone, clap::Args)]
pub struct TuiArgs {
    /// A problem file for the picker and the batch panel (repeatable). The datasets in
    /// assets/datasets/ are listed too.
    #[arg(long, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Scripted toy backends instead of a model ("What is 6 times 7?"), to try the UI
    /// without weights; labelled as a demo everywhere.
    #[arg(long)]
    demo: bool,
    /// Milliseconds the demo backends wait per generation call (so the tree grows visibly).
    #[arg(long, default_value_t = 150, value_name = "MS")]
    demo_delay_ms: u64,
    /// Run without a value head (models that have none, such as SmolLM2).
    #[arg(long)]
    no_value: bool,
    /// List only the --data files, not the datasets shipped in assets/datasets/.
    #[arg(long)]
    only_data: bool,
    /// dark or light.
    #[arg(long, default_value = "dark")]
    theme: String,
    /// Key bindings file (TOML, `[keys] action = ["key", ...]`); default
    /// ~/.config/arbor/keys.toml when it exists.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Log file (default ~/.local/state/arbor/tui.log); the screen never shows logs.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// The Python interpreter (default: $ARBOR_PYTHON, then python3).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Interpreter workers running code at once.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// The model: an HF checkpoint folder, a .gguf file, or http(s) URL(s) of
    /// OpenAI-compatible servers. Default: the bundled model (assets/model/synth) unless --demo;
    /// when neither exists the picker says how to get one.
    #[arg(long, value_name = "PATH|URL")]
    model: Option<String>,
    /// A value head (.pth or .safetensors) for a model that has none.
    #[arg(long, value_name = "FILE")]
    value_head: Option<PathBuf>,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// The `--model` options of the search commands, with their defaults.
#[derive(clap::Parser)]
struct ModelOnly {
    #[command(flatten)]
    model: ModelArgs,
}

impl TuiArgs {
    fn model_args(&self) -> anyhow::Result<Option<ModelArgs>> {
        // Without --model (and outside the demo) the bundled model is the one to use.
        let bundled = super::model_args::bundled_model();
        let model = match &self.model {
            Some(model) => model.clone(),
            None if !self.demo && bundled.join("config.json").exists() => bundled.display().to_string(),
            None => return Ok(None),
        };
        let mut argv =
            vec!["arbor".to_owned(), "--model".to_owned(), model, "--device".to_owned(), self.device.clone()];
        if let Some(head) = &self.value_head {
            argv.push("--value-head".to_owned());
            argv.push(head.display().to_string());
        }
        let parsed = <ModelOnly as clap::Parser>::try_parse_from(argv).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Some(parsed.model))
    }
}

/// Open a saved tree file in the terminal UI.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    arbor view sample_trees/large_mcts.jsonl\n  \
    arbor view trees.jsonl --theme light")]
pub struct ViewArgs {
    /// The tree JSONL file.
    file: PathBuf,
    #[command(flatten)]
    tui: TuiArgs,
}

/// The shipped test split of the bundled model's own domain: listed first, so that `arbor`
/// alone opens on problems the default model was trained for.
const BUNDLED_DOMAIN: &str = "synth_test.jsonl";

/// `assets/datasets/*.json[l]` beside the sources and in the working directory, the bundled
/// model's domain first, then by name.
fn discover_datasets() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    for base in [PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from(".")] {
        let Ok(entries) = std::fs::read_dir(base.join("assets/datasets")) else { continue };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "jsonl"))
            .collect();
        files.sort();
        // Stable: the rest keep their name order.
        files.sort_by_key(|p| p.file_name().is_none_or(|n| n != BUNDLED_DOMAIN));
        for f in files {
            let canonical = f.canonicalize().unwrap_or(f.clone());
            if !found.iter().any(|g| g.canonicalize().unwrap_or(g.clone()) == canonical) {
                found.push(f);
            }
        }
    }
    found
}

fn label(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn model_choice(model: ModelArgs, choice: BackendChoice) -> ModelChoice {
    let name = model.model.clone();
    let factory: LoaderFactory = Arc::new(move |config: &SearchConfig| {
        let (model, choice, config) = (model.clone(), choice.clone(), config.clone());
        Box::new(move || {
            open_backends(&model, &choice, &config).map(|b| Box::new(b) as _).map_err(|e| format!("{e:#}"))
        })
    });
    ModelChoice { name, demo: false, factory }
}

fn options(args: TuiArgs, view: Option<PathBuf>) -> anyhow::Result<Options> {
    let theme = ThemeName::parse(&args.theme)
        .with_context(|| format!("--theme {}: expected dark or light", args.theme))?;
    let keys_path = args.keys.clone().or_else(|| {
        std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|c| c.join("arbor/keys.toml"))
    });
    let keymap = match &keys_path {
        Some(p) if args.keys.is_some() && !p.exists() => {
            anyhow::bail!("--keys {}: no such file", p.display())
        }
        Some(p) => Keymap::load(p)?,
        None => Keymap::defaults(),
    };
    let choice = BackendChoice {
        config_name: "search".to_owned(),
        python: args.python.clone(),
        workers: args.workers,
        rollout_model: None,
    };
    let mut models = Vec::new();
    if args.demo {
        models.push(tui::demo_model(Duration::from_millis(args.demo_delay_ms)));
    }
    if let Some(model) = args.model_args()? {
        models.push(model_choice(model, choice));
    }
    let mut data: Vec<(String, PathBuf)> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let shipped = if args.only_data { Vec::new() } else { discover_datasets() };
    for path in args.data.iter().cloned().chain(shipped) {
        // A --data file that is also in assets/datasets/ is listed once, first.
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if seen.contains(&canonical) {
            continue;
        }
        seen.push(canonical);
        data.push((label(&path), path));
    }
    Ok(Options {
        models,
        data,
        demo_problem: args.demo,
        view,
        theme,
        keymap,
        log: args.log.clone().unwrap_or_else(tui::log::default_path),
        no_value: args.no_value,
    })
}

pub fn run(args: TuiArgs) -> anyhow::Result<ExitCode> {
    tui::run(options(args, None)?)?;
    Ok(ExitCode::SUCCESS)
}

pub fn view(args: ViewArgs) -> anyhow::Result<ExitCode> {
    if !args.file.exists() {
        anyhow::bail!("{}: no such file", args.file.display());
    }
    tui::run(options(args.tui, Some(args.file))?)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_models_test_split_is_listed_first_then_the_rest_by_name() {
        let found = discover_datasets();
        let names: Vec<String> = found.iter().map(|p| label(p)).collect();
        assert_eq!(names.first().map(String::as_str), Some(BUNDLED_DOMAIN), "{names:?}");
        let rest = &names[1..];
        assert!(rest.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
        assert!(rest.iter().any(|n| n == "gsm8k_test.jsonl"), "{names:?}");
    }
}
