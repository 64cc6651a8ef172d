//! Measurements behind `arbor bench` and `cargo bench`. Every figure is printed next to a
//! baseline measured in the same run, so results compare across machines as ratios.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::search::simulate::{SimConfig, simulate};
use crate::store::{StoreError, TreeFile, TreeWriter};

/// Writes simulated MCTS trees to `out` (which must not exist) until `trees` trees are written
/// or the file reaches `min_bytes`, whichever comes later. Returns (trees, bytes).
pub fn generate_trees(
    out: &Path,
    trees: usize,
    min_bytes: u64,
    nodes: usize,
    seed: u64,
    mut progress: impl FnMut(usize, u64),
) -> Result<(usize, u64), StoreError> {
    let mut writer = TreeWriter::create(out)?;
    let cfg = SimConfig::reference(nodes, seed);
    let mut bytes = 0u64;
    let mut buf = Vec::new();
    let mut written = 0usize;
    while written < trees || bytes < min_bytes {
        let record = simulate(written, &cfg);
        buf.clear();
        record.encode(&mut buf).map_err(|source| StoreError::Encode { path: out.to_owned(), source })?;
        writer.write(&record)?;
        bytes += buf.len() as u64;
        written += 1;
        progress(written, bytes);
    }
    writer.sync()?;
    Ok((written, bytes))
}

/// One row of a benchmark report.
#[derive(Clone, Debug)]
pub struct Figure {
    pub what: String,
    pub value: String,
    /// Ratio to the row's baseline, when it has one.
    pub ratio: Option<(f64, String)>,
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:<44} {:>16}", self.what, self.value)?;
        if let Some((r, base)) = &self.ratio {
            write!(f, "   {r:>6.2}× {base}")?;
        }
        Ok(())
    }
}

/// Results of [`store`].
#[derive(Clone, Debug)]
pub struct StoreReport {
    pub file: PathBuf,
    pub bytes: u64,
    pub trees: usize,
    pub figures: Vec<Figure>,
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9)
}

/// Benchmarks the store on `file`: index + open, time to the first tree, decode and encode
/// throughput over a sample of `sample` trees, random access; each against a baseline (plain
/// sequential read; serde_json into `Value` and back).
pub fn store(file: &Path, sample: usize) -> Result<StoreReport, StoreError> {
    let io = |e| StoreError::io(file, e);
    let bytes = std::fs::metadata(file).map_err(io)?.len();

    // Baseline: read every byte, no parsing (warms the page cache for what follows).
    let t = Instant::now();
    let mut f = std::fs::File::open(file).map_err(io)?;
    let mut buf = vec![0u8; 4 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let raw_read = t.elapsed();
    let raw_mbs = mb_per_s(total, raw_read);

    let t = Instant::now();
    let opened = TreeFile::open(file)?;
    let index_time = t.elapsed();
    let t = Instant::now();
    let first = opened.load(0)?;
    let first_time = index_time + t.elapsed();
    let first_nodes = first.as_ref().map_or(0, |l| l.record.tree.len());

    // Decode / encode throughput on the first `sample` trees, with serde_json baselines.
    let n = sample.min(opened.len());
    let lines: Vec<Vec<u8>> = (0..n).map(|i| opened.read_raw(i)).collect::<Result<_, _>>()?;
    let sample_bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
    // Each measurement runs twice and keeps the faster run, so allocator and cache warm-up
    // favour neither side.
    let best_of_two = |f: &mut dyn FnMut()| {
        (0..2)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let mut records = Vec::new();
    let decode = best_of_two(&mut || {
        records =
            lines.iter().filter_map(|l| crate::store::TreeRecord::decode(l).ok()).map(|d| d.record).collect();
    });
    let mut values: Vec<serde_json::Value> = Vec::new();
    let decode_base = best_of_two(&mut || {
        values = lines.iter().filter_map(|l| serde_json::from_slice(l).ok()).collect();
    });
    let mut out = Vec::with_capacity(sample_bytes as usize + n);
    let mut encode_result = Ok(());
    let encode = best_of_two(&mut || {
        out.clear();
        for r in &records {
            if let Err(e) = r.encode(&mut out) {
                encode_result = Err(e);
            }
        }
    });
    encode_result.map_err(|source| StoreError::Encode { path: file.to_owned(), source })?;
    let encode_base = best_of_two(&mut || {
        out.clear();
        for v in &values {
            let _ = crate::store::pyjson::write_json(&mut out, v);
            out.push(b'\n');
        }
    });

    // Random access: a spread of trees across the file, each read and decoded alone.
    let picks = 20.min(opened.len());
    let t = Instant::now();
    for k in 0..picks {
        let i = (k * 7919 + 13) % opened.len();
        let _ = opened.load(i)?;
    }
    let random = t.elapsed() / picks.max(1) as u32;

    let f = |what: &str, value: String, ratio: Option<(f64, &str)>| Figure {
        what: what.to_owned(),
        value,
        ratio: ratio.map(|(r, b)| (r, b.to_owned())),
    };
    let index_mbs = mb_per_s(bytes, index_time);
    let decode_mbs = mb_per_s(sample_bytes, decode);
    let encode_mbs = mb_per_s(sample_bytes, encode);
    let figures = vec![
        f("file", format!("{:.1} MB, {} trees", bytes as f64 / 1e6, opened.len()), None),
        f("baseline: sequential read (page cache)", format!("{raw_mbs:.0} MB/s"), None),
        f("index + open", format!("{index_mbs:.0} MB/s"), Some((index_mbs / raw_mbs, "of sequential read"))),
        f("index + open, wall time", format!("{:.3} s", index_time.as_secs_f64()), None),
        f(
            "time to first tree (open + decode)",
            format!("{:.1} ms", first_time.as_secs_f64() * 1e3),
            Some((first_time.as_secs_f64() / raw_read.as_secs_f64(), "of reading the whole file")),
        ),
        f("  first tree size", format!("{first_nodes} nodes"), None),
        f(
            &format!("decode to Tree ({n} trees)"),
            format!("{decode_mbs:.0} MB/s"),
            Some((decode.as_secs_f64() / decode_base.as_secs_f64(), "the time of serde_json → Value")),
        ),
        f(
            &format!("encode, Python-identical ({n} trees)"),
            format!("{encode_mbs:.0} MB/s"),
            Some((encode.as_secs_f64() / encode_base.as_secs_f64(), "the time of Value → same JSON")),
        ),
        f("random access: read + decode one tree", format!("{:.1} ms", random.as_secs_f64() * 1e3), None),
    ];
    Ok(StoreReport { file: file.to_owned(), bytes, trees: opened.len(), figures })
}

/// Parses sizes such as `1G`, `500M`, `64K` or a plain byte count.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len()));
    let n: f64 = digits.parse().map_err(|_| format!("'{s}' is not a size (try 1G, 500M, 4096)"))?;
    let mult = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 1u64,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("'{s}': unknown unit (use K, M or G)")),
    };
    Ok((n * mult as f64) as u64)
}

/// One algorithm's run for [`engine`].
fn engine_run(
    config: &crate::search::config::SearchConfig,
    problems: usize,
) -> (Duration, usize, usize, Vec<Vec<crate::tree::TreeEvent>>) {
    use crate::engine::driver::Driver;
    use crate::engine::scripted::toy;
    use crate::problems::GroundTruth;
    use crate::search::new_search;

    let mut driver = Driver::new();
    for i in 0..problems {
        driver.add(new_search(config.clone(), "What is 6 times 7?", GroundTruth::One("42".into()), i as u64));
    }
    let mut events: Vec<Vec<crate::tree::TreeEvent>> = vec![Vec::new(); problems];
    let mut backends = toy();
    let t = Instant::now();
    let _ = driver.run(&mut backends, &mut |i, e| events[i].extend(e));
    let elapsed = t.elapsed();
    let iterations = driver.ids().into_iter().map(|i| driver.search(i).iterations()).sum();
    let nodes = driver.ids().into_iter().map(|i| driver.search(i).tree().len()).sum();
    (elapsed, iterations, nodes, events)
}

/// The engine's own cost with instant scripted backends (the toy domain of
/// [`crate::engine::scripted::toy`]): per algorithm, time per iteration and nodes per second
/// for `problems` searches in flight, against the baseline of replaying the same tree events
/// into fresh trees (the bookkeeping every search must do at least).
pub fn engine(problems: usize) -> Vec<Figure> {
    use crate::search::config::{Mode, SearchConfig};

    let algorithms = [
        (
            "MCTS N=40, 5 samples",
            SearchConfig {
                mode: Mode::Mcts,
                iterations: 40,
                n_generate_sample: 5,
                max_depth: 8,
                errors_threshold: 3,
                c_puct: 1.25,
                need_value_func: true,
                prune: true,
                ..SearchConfig::default()
            },
        ),
        (
            "SBS(3,5)",
            SearchConfig {
                mode: Mode::Sbs,
                step_beam_width: 3,
                n_generate_sample: 5,
                need_value_func: true,
                max_depth: 10,
                ..SearchConfig::default()
            },
        ),
        (
            "maj@5 chains",
            SearchConfig {
                mode: Mode::Sample,
                n_generate_sample: 5,
                max_depth: 10,
                ..SearchConfig::default()
            },
        ),
        ("greedy chain", SearchConfig { mode: Mode::React, max_depth: 10, ..SearchConfig::default() }),
    ];
    let mut figures = vec![Figure {
        what: format!("searches in flight: {problems} (toy problem, scripted backends)"),
        value: String::new(),
        ratio: None,
    }];
    for (name, config) in algorithms {
        let (elapsed, iterations, nodes, events) = engine_run(&config, problems);
        let t = Instant::now();
        for tree_events in &events {
            let _ = crate::tree::Tree::from_events(tree_events);
        }
        let replay = t.elapsed();
        let per_iter_us = elapsed.as_secs_f64() * 1e6 / iterations.max(1) as f64;
        figures.push(Figure {
            what: format!("{name}: time per iteration"),
            value: format!("{per_iter_us:.1} µs"),
            ratio: Some((
                elapsed.as_secs_f64() / replay.as_secs_f64().max(1e-9),
                "the time of replaying its tree events".to_owned(),
            )),
        });
        figures.push(Figure {
            what: format!("{name}: nodes per second"),
            value: format!("{:.0}", nodes as f64 / elapsed.as_secs_f64().max(1e-9)),
            ratio: None,
        });
    }
    figures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3T").is_err());
    }
}
