//! The `Judge` capability (AlphaLLM's PRM/ORM critics read as P("True")): on a random-weight
//! tiny model, from the next-token logits; over HTTP, from the top log-probabilities a
//! `/v1/completions` server reports (a local stand-in server answers with canned JSON).
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic as test failures

#[path = "support/tiny.rs"]
mod tiny;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arbor::model::{CandleModel, HttpOptions, HttpPolicy, Judge, ModelOptions, verdict_tokens};
use serde_json::{Value, json};
use tiny::*;

#[test]
fn candle_judge_compares_the_true_and_false_tokens_of_the_next_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_hf(dir.path(), "llama", 17, None);
    let mut model = CandleModel::load(&path, ModelOptions::default()).unwrap();
    // Byte-level tokens: "True" starts with `T`, "False" with `F`; the bare space of " True"
    // starts both and is dropped.
    let (yes, no) = verdict_tokens(model.tokenizer()).unwrap();
    assert_eq!((yes, no), (vec![b'T' as u32], vec![b'F' as u32]));

    let prompts = vec!["### State\n1 + 1 = 2\n\n###Assessment\n".to_string(), "z".repeat(CONTEXT)];
    let got = model.judge(&prompts).unwrap();
    // By hand: the softmax of the full next-token logits, restricted to the two tokens.
    let logits = model.prompt_state(&prompts[0]).unwrap().logits;
    let p = |id: u8| f64::from(logits[id as usize]).exp();
    let want = p(b'T') / (p(b'T') + p(b'F'));
    let got0 = got[0].unwrap();
    assert!((got0 - want).abs() < 1e-5, "{got0} vs {want}");
    assert!(got0 > 0.0 && got0 < 1.0);
    assert_eq!(got[1], None, "a prompt that leaves no room for a token");
}

/// A stand-in `/v1/completions` server: answers each request with `reply`, records the bodies.
fn stand_in(reply: Value) -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
            let text = reply.to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
        }
    });
    (url, bodies)
}

fn client(url: &str) -> HttpPolicy {
    HttpPolicy::new(HttpOptions {
        model: Some("judge".into()),
        retries: 0,
        timeout: Duration::from_secs(30),
        ..HttpOptions::new(url)
    })
    .unwrap()
}

#[test]
fn http_judge_reads_the_top_logprobs_of_one_token() {
    let reply = json!({"choices": [{"index": 0, "text": " True", "finish_reason": "length",
        "logprobs": {"tokens": [" True"], "token_logprobs": [-0.2],
                     "top_logprobs": [{" True": -0.2, " False": -1.8, " Yes": -3.0}]}}]});
    let (url, bodies) = stand_in(reply);
    let got = client(&url).judge(&["prompt one".to_string(), "prompt two".to_string()]).unwrap();
    let (y, n) = ((-0.2f64).exp(), (-1.8f64).exp());
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|p| (p.unwrap() - y / (y + n)).abs() < 1e-12));
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2);
    for body in bodies.iter() {
        assert_eq!(
            (&body["max_tokens"], &body["logprobs"], &body["model"]),
            (&json!(1), &json!(20), &json!("judge"))
        );
    }
}

#[test]
fn http_judge_fails_clearly_when_the_server_ignores_logprobs() {
    let reply = json!({"choices": [{"index": 0, "text": "True", "finish_reason": "length"}]});
    let (url, _) = stand_in(reply);
    let err = client(&url).judge(&["p".to_string()]).unwrap_err().to_string();
    assert!(err.contains("no top log-probabilities"), "{err}");
}
