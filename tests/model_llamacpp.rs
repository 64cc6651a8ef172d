//! The HTTP backend against llama.cpp's OpenAI-compatible server (llama-cpp-python) serving
//! SmolLM2. Runs when `scripts/install-llamacpp.sh` and `scripts/fetch-models.sh` have been
//! run (or `ARBOR_LLAMACPP_PYTHON` names a python with `llama_cpp.server`); says why it
//! skipped otherwise. Not in CI: installing llama-cpp-python compiles llama.cpp for minutes.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic as test failures

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arbor::model::{Finish, GenRequest, HttpOptions, HttpPolicy, Policy};

const SMOLLM2: &str = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidate = std::env::var_os("ARBOR_LLAMACPP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/llamacpp-venv/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", "import llama_cpp.server"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(candidate)
}

#[test]
fn http_backend_talks_to_llama_cpp_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join(SMOLLM2);
    let Some(python) = python() else {
        println!("skipped: llama-cpp-python is not installed (scripts/install-llamacpp.sh)");
        return;
    };
    if !model.exists() {
        println!("skipped: {SMOLLM2} is absent (scripts/fetch-models.sh)");
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Server(
        Command::new(python)
            .args([
                "-m",
                "llama_cpp.server",
                "--host",
                "127.0.0.1",
                "--n_ctx",
                "512",
                "--port",
                &port.to_string(),
            ])
            .arg("--model")
            .arg(&model)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while ureq_get(&format!("{url}/v1/models")).is_none() {
        assert!(start.elapsed() < Duration::from_secs(120), "llama.cpp server did not start");
        std::thread::sleep(Duration::from_millis(250));
    }
    let mut http =
        HttpPolicy::new(HttpOptions { timeout: Duration::from_secs(120), ..HttpOptions::new(url) }).unwrap();
    let prompt = "<|im_start|>user\nWhat is 3 + 5?<|im_end|>\n<|im_start|>assistant\n";
    let mut req = GenRequest::new(prompt, 3, 24, 5);
    req.temperature = 0.7;
    req.stop = vec!["\n".into()];
    let mut too_long = GenRequest::new("word ".repeat(700), 1, 8, 1);
    too_long.want_value = true;
    let r = http.generate(&[req, too_long]).unwrap();
    // llama.cpp's server returns one choice per call whatever n says; the client asks again.
    assert_eq!(r[0].candidates.len(), 3);
    for c in &r[0].candidates {
        assert!(c.tokens > 0 && c.logprob_sum <= 0.0 && c.logprob_sum.is_finite(), "{c:?}");
        assert!(matches!(c.finish, Finish::Stop | Finish::Length), "{c:?}");
        assert!(!c.text.contains('\n'), "the stop string is cut: {:?}", c.text);
    }
    assert!(r[0].candidates.iter().any(|c| c.text.contains('8')), "{:?}", r[0].candidates);
    assert!(r[1].candidates.is_empty() && r[1].value.is_none(), "too long for n_ctx 512");
}

fn ureq_get(url: &str) -> Option<String> {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).build().into();
    agent.get(url).call().ok()?.body_mut().read_to_string().ok()
}
