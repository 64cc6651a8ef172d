//! `arbor serve`: share a local model (policy + value head) over HTTP.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::model_args::ModelArgs;
use crate::model::serve::{ServeOptions, serve};
use crate::model::{CandleModel, ModelSpec};

/// Serve a local model over the OpenAI-compatible API (/v1/completions, /v1/models) plus
/// /v1/values, so searches on other machines can use it (`--model http://HOST:PORT`).
///
/// Examples:
///   arbor serve --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --port 8000
///   arbor serve --model ~/models/AlphaMath-7B --host 0.0.0.0 --device cuda
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Model id reported to clients (default: the file or folder name).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let ModelSpec::Local(path) = ModelSpec::parse(&args.model.model) else {
        bail!("arbor serve needs a local model (a folder or a .gguf file), not a URL");
    };
    let model = CandleModel::load(&path, args.model.local_options())
        .with_context(|| format!("loading {}", path.display()))?;
    let name = args.name.clone().unwrap_or_else(|| model.name().to_string());
    let value = if model.has_value_head() { "with value head" } else { "no value head" };
    eprintln!("arbor serve: loaded {name} ({value}, context {} tokens)", model.context_len());
    let opts = ServeOptions { host: args.host, port: args.port, model_name: name };
    serve(model, opts, |addr| {
        // Scripts and tests wait for this line.
        println!("arbor serve: listening on http://{addr}");
        let _ = std::io::stdout().flush();
    })?;
    Ok(ExitCode::SUCCESS)
}
