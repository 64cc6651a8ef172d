//! `arbor grade`: compare one answer with a ground truth, or a JSONL batch on all cores.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use serde_json::Value;

use crate::grade::{self, Flags, Normalized, Options, Verdict};

/// Grade answers the way MARIO_EVAL does (the grader behind AlphaMath's numbers).
///
/// Exit status: 0 when equivalent, 1 when not (single pair); 0 after a batch.
///
/// Examples:
///   arbor grade '\frac{1}{2}' 0.5
///   arbor grade --extract '10' 'so the total is \boxed{10} dollars'
///   arbor grade --batch preds.jsonl > graded.jsonl
///
/// Batch lines are JSON objects with `gold` (a string, or a list of accepted strings) and
/// `pred`; each is written back, in order, with `"equal": true|false` added.
#[derive(Debug, ClapArgs)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Ground truth (single-pair mode).
    #[arg(required_unless_present = "batch")]
    gold: Option<String>,
    /// Prediction (single-pair mode).
    #[arg(required_unless_present = "batch")]
    pred: Option<String>,
    /// JSONL file to grade (`-` for standard input); results go to standard output.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["gold", "pred"])]
    batch: Option<PathBuf>,
    /// Extract the final answer from PRED first (Final Answer:, \boxed{}, ####, "The answer is").
    #[arg(long)]
    extract: bool,
    /// With --batch: also add `rule` and `detail` to each line.
    #[arg(long, requires = "batch")]
    explain: bool,
    /// Compare with MARIO_EVAL's bare `is_equiv`: do not remove an enclosing `$...$` pair first
    /// (Super_MARIO's `math_is_equiv`, the default, does).
    #[arg(long)]
    keep_dollars: bool,
    /// Worker threads for --batch (default: all cores).
    #[arg(long, requires = "batch")]
    threads: Option<usize>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(path) = &args.batch {
        batch(path, &opts(&args), args.threads)?;
        return Ok(ExitCode::SUCCESS);
    }
    let options = opts(&args).options;
    let (Some(gold), Some(pred)) = (args.gold, args.pred) else {
        bail!("give GOLD and PRED, or --batch FILE");
    };
    let pred = if args.extract {
        match grade::extract_answer(&pred) {
            Some(a) => {
                println!("extracted: {a}");
                a
            }
            None => {
                println!("not equal: no final answer found in the prediction");
                return Ok(ExitCode::from(1));
            }
        }
    } else {
        pred
    };
    let v = grade::judge_with(&gold, &pred, options);
    println!("{}", if v.equal { "equal" } else { "not equal" });
    println!("rule:   {} ({:?} pass)", v.rule, v.pass);
    println!("why:    {}", v.detail);
    println!("gold →  {}", show(&grade::normalize(grade::remove_single_dollar(&gold), Flags::DEFAULT)));
    println!("pred →  {}", show(&grade::normalize(grade::remove_single_dollar(&pred), Flags::DEFAULT)));
    Ok(if v.equal { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Per-line settings of a batch.
struct LineOpts {
    extract: bool,
    explain: bool,
    options: Options,
}

fn opts(args: &Args) -> LineOpts {
    LineOpts {
        extract: args.extract,
        explain: args.explain,
        options: Options { strip_dollars: !args.keep_dollars, ..Options::default() },
    }
}

fn show(n: &Normalized) -> String {
    match n {
        Normalized::One(s) => format!("{s:?}"),
        Normalized::Alternatives(v) => format!("one of {v:?}"),
    }
}

fn read_lines(path: &PathBuf) -> Result<Vec<String>> {
    if path.as_os_str() == "-" {
        let stdin = std::io::stdin();
        return stdin.lock().lines().collect::<Result<_, _>>().context("reading standard input");
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().map(str::to_string).collect())
}

/// Grades one JSONL line; blank lines pass through.
fn grade_line(line: &str, lineno: usize, o: &LineOpts) -> Result<String> {
    if line.trim().is_empty() {
        return Ok(String::new());
    }
    let mut obj: serde_json::Map<String, Value> =
        serde_json::from_str(line).with_context(|| format!("line {lineno}: not a JSON object"))?;
    let pred = match obj.get("pred") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let pred = if o.extract { grade::extract_answer(&pred).unwrap_or_default() } else { pred };
    let golds: Vec<String> = match obj.get("gold") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(xs)) => {
            xs.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), String::from)).collect()
        }
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => bail!("line {lineno}: missing \"gold\" (a string or a list of strings)"),
    };
    let v = judge_any_with(&golds, &pred, o.options);
    obj.insert("equal".into(), Value::Bool(v.equal));
    if o.explain {
        obj.insert("rule".into(), serde_json::to_value(v.rule)?);
        obj.insert("detail".into(), Value::String(v.detail));
    }
    Ok(serde_json::to_string(&obj)?)
}

fn judge_any_with(golds: &[String], pred: &str, options: Options) -> Verdict {
    let mut last = None;
    for g in golds {
        let v = grade::judge_with(g, pred, options);
        if v.equal {
            return v;
        }
        last = Some(v);
    }
    last.unwrap_or_else(|| grade::judge_with("", pred, options))
}

fn batch(path: &PathBuf, o: &LineOpts, threads: Option<usize>) -> Result<()> {
    let lines = read_lines(path)?;
    let workers = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, lines.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Result<String>>> = (0..lines.len()).map(|_| None).collect();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (lines, next) = (&lines, &next);
            let handle = std::thread::Builder::new()
                // Deep (bounded) recursion in the parser: give workers the main thread's stack.
                .stack_size(16 << 20)
                .spawn_scoped(scope, move || {
                    let mut done = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= lines.len() {
                            break;
                        }
                        done.push((k, grade_line(&lines[k], k + 1, o)));
                    }
                    done
                })
                .context("starting a grading thread")?;
            handles.push(handle);
        }
        for h in handles {
            let done = h.join().map_err(|_| anyhow::anyhow!("a grading thread panicked"))?;
            for (k, r) in done {
                results[k] = Some(r);
            }
        }
        Ok(())
    })?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let name = path.display();
    for r in results {
        let line = r.unwrap_or_else(|| Ok(String::new())).with_context(|| format!("in {name}"))?;
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
