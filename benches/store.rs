//! `cargo bench --bench store`: the store benchmark of `arbor bench store` on a generated
//! file (size from ARBOR_BENCH_SIZE, default 1G), reusing bench-data/ across runs.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let size = std::env::var("ARBOR_BENCH_SIZE").unwrap_or_else(|_| "1G".to_owned());
    let bytes = arbor::bench::parse_size(&size).map_err(anyhow::Error::msg)?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("trees-{size}.jsonl"));
    if !path.exists() {
        let partial = path.with_extension("jsonl.partial");
        let _ = std::fs::remove_file(&partial);
        eprintln!("generating {} ...", path.display());
        arbor::bench::generate_trees(&partial, 1, bytes, 1200, 1, |_, _| {})?;
        std::fs::rename(&partial, &path)?;
    }
    let report = arbor::bench::store(&path, 200)?;
    println!("store benchmark: {}", report.file.display());
    for figure in &report.figures {
        println!("{figure}");
    }
    Ok(())
}
