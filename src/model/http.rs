//! OpenAI-compatible HTTP backend: `/v1/completions` on vLLM, SGLang, llama.cpp's server,
//! mistral.rs or `arbor serve`, with retries and backoff, timeouts, a concurrency limit and
//! several endpoints; values from the same response (`arbor serve`), from a value endpoint, or
//! from a local [`ValueModel`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::judge::{JUDGE_TOP_LOGPROBS, true_probability_from_choice};
use super::openai::{OneOrMany, is_context_error};
use super::{Candidate, Error, Finish, GenRequest, GenResponse, Judge, Policy, ValueModel};

/// Which value API a [`ValueEndpoint`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueEndpointKind {
    /// arbor's contract: `POST {url}/v1/values {"prompts": [..]}` -> `{"values": [..]}`.
    Arbor,
    /// vLLM's pooling API (`--runner pooling`, a reward/value head): `POST {url}/pooling
    /// {"model", "input": [..]}` -> `{"data": [{"data": ..}]}`; the last number of each item is
    /// the value (the last token's score).
    VllmPooling,
}

/// A server that scores states.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueEndpoint {
    pub url: String,
    pub kind: ValueEndpointKind,
    /// Apply tanh to the returned number (a raw linear head served by vLLM).
    pub apply_tanh: bool,
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Base URLs (`http://host:port` or `http://host:port/v1`); requests are spread over them.
    pub endpoints: Vec<String>,
    /// Model name sent in requests; `None` asks the first endpoint's `/v1/models`.
    pub model: Option<String>,
    /// Requests in flight at once, over all endpoints.
    pub concurrency: usize,
    /// Attempts after the first on connection errors, 429 and 5xx.
    pub retries: usize,
    /// First backoff; doubles each retry.
    pub backoff: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub value: Option<ValueEndpoint>,
}

impl HttpOptions {
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoints: vec![endpoint.into()],
            model: None,
            concurrency: 8,
            retries: 3,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(600),
            value: None,
        }
    }
}

/// The HTTP policy (and value model, when it has a value source).
pub struct HttpPolicy {
    client: Client,
    model: Option<String>,
    local_value: Option<Box<dyn ValueModel + Send>>,
}

/// The part shared by the request threads.
struct Client {
    opts: HttpOptions,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPolicy").field("opts", &self.client.opts).field("model", &self.model).finish()
    }
}

/// One failed attempt: retry it, or give up at once.
enum Failure {
    Retry(String),
    Fatal(String),
    ContextExceeded,
}

impl HttpPolicy {
    pub fn new(opts: HttpOptions) -> Result<Self, Error> {
        if opts.endpoints.is_empty() {
            return Err(Error::InvalidRequest("the HTTP backend needs at least one endpoint".into()));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .timeout_connect(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_idle_connections_per_host(opts.concurrency.max(1))
            .build()
            .into();
        let model = opts.model.clone();
        Ok(Self { client: Client { opts, agent }, model, local_value: None })
    }

    /// Scores states with a local model (e.g. a candle value model) instead of an endpoint.
    pub fn with_local_value(mut self, model: Box<dyn ValueModel + Send>) -> Self {
        self.local_value = Some(model);
        self
    }

    /// Boxed variant for callers holding a `Box<HttpPolicy>`.
    pub fn boxed_with_local_value(self: Box<Self>, model: Box<dyn ValueModel + Send>) -> Box<Self> {
        Box::new((*self).with_local_value(model))
    }

    /// The model name: configured, else the first id of `/v1/models`, else "default".
    pub fn model_name(&mut self) -> String {
        if let Some(m) = &self.model {
            return m.clone();
        }
        let url = format!("{}/v1/models", base(&self.client.opts.endpoints[0]));
        let name = self
            .client
            .agent
            .get(&url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
            .and_then(|v| v["data"][0]["id"].as_str().map(str::to_string))
            .unwrap_or_else(|| "default".to_string());
        self.model = Some(name.clone());
        name
    }
}

fn base(url: &str) -> &str {
    let u = url.trim_end_matches('/');
    u.strip_suffix("/v1").unwrap_or(u)
}

impl Client {
    fn post_once(&self, url: &str, body: &Value) -> Result<Value, Failure> {
        let mut resp = match self.agent.post(url).send_json(body) {
            Ok(r) => r,
            Err(e) => return Err(Failure::Retry(e.to_string())),
        };
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(|e| Failure::Retry(e.to_string()))?;
        match status {
            200..=299 => serde_json::from_str(&text)
                .map_err(|e| Failure::Fatal(format!("invalid JSON ({e}): {text:.200}"))),
            400 | 413 | 422 if is_context_error(&text) => Err(Failure::ContextExceeded),
            408 | 429 | 500..=599 => Err(Failure::Retry(format!("HTTP {status}: {text:.300}"))),
            _ => Err(Failure::Fatal(format!("HTTP {status}: {text:.300}"))),
        }
    }

    /// POSTs `path` on endpoint `start` (then the next ones), retrying with backoff.
    /// `Ok(None)` means the server said the prompt does not fit the context.
    fn post(&self, start: usize, path: &str, body: &Value) -> Result<Option<Value>, Error> {
        let endpoints = &self.opts.endpoints;
        let mut delay = self.opts.backoff;
        let mut last = String::new();
        for attempt in 0..=self.opts.retries {
            let endpoint = &endpoints[(start + attempt) % endpoints.len()];
            let url = format!("{}{path}", base(endpoint));
            match self.post_once(&url, body) {
                Ok(v) => return Ok(Some(v)),
                Err(Failure::ContextExceeded) => return Ok(None),
                Err(Failure::Fatal(message)) => return Err(Error::Http { endpoint: url, message }),
                Err(Failure::Retry(message)) => last = format!("{url}: {message}"),
            }
            if attempt < self.opts.retries {
                std::thread::sleep(delay);
                delay *= 2;
            }
        }
        Err(Error::Http {
            endpoint: endpoints.join(", "),
            message: format!("gave up after {} attempts; last error: {last}", self.opts.retries + 1),
        })
    }

    /// One request: asks for the remaining samples until `n` arrived (llama.cpp's server
    /// returns one choice per call whatever `n` says).
    fn complete(&self, model: &str, req: &GenRequest, job: usize) -> Result<GenResponse, Error> {
        let mut out = GenResponse::default();
        let mut calls = 0u64;
        while out.candidates.len() < req.n || (req.n == 0 && calls == 0) {
            let remaining = req.n - out.candidates.len();
            let mut body = json!({
                "model": model,
                "prompt": req.prompt,
                "n": remaining.max(1),
                "temperature": req.temperature,
                "top_p": req.top_p,
                "max_tokens": req.max_tokens.max(1),
                "logprobs": 1,
                "seed": req.seed.wrapping_add(out.candidates.len() as u64),
            });
            if req.top_k > 0 {
                body["top_k"] = json!(req.top_k);
            }
            if !req.stop.is_empty() {
                body["stop"] = json!(OneOrMany::Many(req.stop.clone()));
            }
            let Some(resp) = self.post(job, "/v1/completions", &body)? else {
                return Ok(GenResponse {
                    candidates: Vec::new(),
                    value: None,
                    prompt_tokens: out.prompt_tokens,
                });
            };
            calls += 1;
            let endpoint = &self.opts.endpoints[job % self.opts.endpoints.len()];
            let bad = |m: &str| Error::BadResponse { endpoint: endpoint.clone(), message: m.to_string() };
            let choices = resp["choices"].as_array().ok_or_else(|| bad("no \"choices\" array"))?;
            if choices.is_empty() {
                return Err(bad("no choices"));
            }
            if out.value.is_none() {
                out.value = resp["values"][0].as_f64().map(|v| v as f32);
            }
            out.prompt_tokens = resp["prompt_token_counts"][0]
                .as_u64()
                .or_else(|| resp["usage"]["prompt_tokens"].as_u64())
                .unwrap_or(0) as usize;
            let completion_tokens = resp["usage"]["completion_tokens"].as_u64();
            for c in choices {
                out.candidates.push(parse_choice(c, choices.len(), completion_tokens).map_err(|m| bad(&m))?);
            }
            if req.n == 0 {
                out.candidates.clear();
            }
        }
        out.candidates.truncate(req.n);
        Ok(out)
    }

    fn remote_values(
        &self,
        endpoint: &ValueEndpoint,
        model: &str,
        prompts: &[String],
    ) -> Result<Vec<Option<f32>>, Error> {
        let bad = |m: String| Error::BadResponse { endpoint: endpoint.url.clone(), message: m };
        let url = base(&endpoint.url).to_string();
        let fetch = |path: &str, body: Value| -> Result<Option<Value>, Error> {
            match self.post_value(&format!("{url}{path}"), &body) {
                Err(Failure::ContextExceeded) => Ok(None),
                Err(Failure::Fatal(m) | Failure::Retry(m)) => {
                    Err(Error::Http { endpoint: url.clone(), message: m })
                }
                Ok(v) => Ok(Some(v)),
            }
        };
        let raw: Vec<Option<f32>> = match endpoint.kind {
            ValueEndpointKind::Arbor => {
                let Some(v) = fetch("/v1/values", json!({"prompts": prompts}))? else {
                    return Ok(vec![None; prompts.len()]);
                };
                let values = v["values"].as_array().ok_or_else(|| bad("no \"values\" array".into()))?;
                values.iter().map(|x| x.as_f64().map(|f| f as f32)).collect()
            }
            ValueEndpointKind::VllmPooling => {
                // One prompt per call, so a prompt that does not fit spoils only itself.
                let mut out = Vec::with_capacity(prompts.len());
                for p in prompts {
                    let v = fetch("/pooling", json!({"model": model, "input": [p]}))?;
                    out.push(v.and_then(|v| last_number(&v["data"][0]["data"])));
                }
                out
            }
        };
        if raw.len() != prompts.len() {
            return Err(bad(format!("{} values for {} prompts", raw.len(), prompts.len())));
        }
        Ok(raw.into_iter().map(|v| v.map(|x| if endpoint.apply_tanh { x.tanh() } else { x })).collect())
    }

    fn post_value(&self, url: &str, body: &Value) -> Result<Value, Failure> {
        let mut delay = self.opts.backoff;
        let mut result = self.post_once(url, body);
        for _ in 0..self.opts.retries {
            match &result {
                Err(Failure::Retry(_)) => {
                    std::thread::sleep(delay);
                    delay *= 2;
                    result = self.post_once(url, body);
                }
                _ => break,
            }
        }
        result
    }
}

/// The last number in a nested JSON array (the last token's score of a pooling output).
fn last_number(v: &Value) -> Option<f32> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| f as f32),
        Value::Array(items) => items.iter().rev().find_map(last_number),
        _ => None,
    }
}

fn parse_choice(c: &Value, n_choices: usize, completion_tokens: Option<u64>) -> Result<Candidate, String> {
    let text = c["text"].as_str().ok_or("a choice has no text")?.to_string();
    let logprobs: Vec<f32> = c["logprobs"]["token_logprobs"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect())
        .unwrap_or_default();
    let tokens = if !logprobs.is_empty() {
        logprobs.len()
    } else if n_choices == 1 {
        completion_tokens.unwrap_or(0) as usize
    } else {
        0
    };
    let stop_reason = c["stop_reason"].as_str().map(str::to_string);
    let finish = match c["finish_reason"].as_str() {
        Some("length") => Finish::Length,
        // vLLM and arbor say which: stop_reason is the stop string, or null at EOS. Servers
        // without the field (llama.cpp) cannot tell the two apart; report Stop.
        Some(_) => match c.get("stop_reason") {
            Some(Value::Null) => Finish::Eos,
            _ => Finish::Stop,
        },
        None => Finish::Length,
    };
    Ok(Candidate {
        text,
        tokens,
        logprob_sum: logprobs.iter().map(|&l| l as f64).sum(),
        token_logprobs: logprobs,
        token_ids: Vec::new(),
        finish,
        stop_reason,
    })
}

impl Policy for HttpPolicy {
    fn generate(&mut self, requests: &[GenRequest]) -> Result<Vec<GenResponse>, Error> {
        let model = self.model_name();
        let client = &self.client;
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<GenResponse, Error>>>> =
            Mutex::new((0..requests.len()).map(|_| None).collect());
        let workers = client.opts.concurrency.clamp(1, requests.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= requests.len() {
                            break;
                        }
                        let r = client.complete(&model, &requests[i], i);
                        if let Ok(mut slots) = results.lock() {
                            slots[i] = Some(r);
                        }
                    }
                });
            }
        });
        let slots =
            results.into_inner().map_err(|_| Error::InvalidRequest("a request thread panicked".into()))?;
        let mut out: Vec<GenResponse> = Vec::with_capacity(requests.len());
        for slot in slots {
            out.push(slot.ok_or_else(|| Error::InvalidRequest("a request was not run".into()))??);
        }
        // Values the completions did not carry come from the value source, in one batch.
        if self.has_value_source() {
            let missing: Vec<bool> =
                out.iter().map(|o| o.value.is_none() && !o.candidates.is_empty()).collect();
            super::fill_values(requests, &mut out, self, |i| missing[i])?;
        }
        Ok(out)
    }
}

/// Per-request results filled in by the request threads.
type Slots<T> = Mutex<Vec<Option<Result<T, Error>>>>;

impl Judge for HttpPolicy {
    /// One `/v1/completions` call per prompt (`max_tokens: 1`, greedy, `logprobs: 20`), read
    /// from the reported top alternatives of the first token. A prompt the server says does
    /// not fit, or whose alternatives name neither word, gives `None`; a server that returns no
    /// alternatives at all (it ignores `logprobs`) is an error, since every verdict would be
    /// missing.
    fn judge(&mut self, prompts: &[String]) -> Result<Vec<Option<f64>>, Error> {
        let model = self.model_name();
        let client = &self.client;
        let next = AtomicUsize::new(0);
        let results: Slots<Option<f64>> = Mutex::new((0..prompts.len()).map(|_| None).collect());
        let workers = client.opts.concurrency.clamp(1, prompts.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= prompts.len() {
                            break;
                        }
                        let r = client.verdict(&model, &prompts[i], i);
                        if let Ok(mut slots) = results.lock() {
                            slots[i] = Some(r);
                        }
                    }
                });
            }
        });
        let slots =
            results.into_inner().map_err(|_| Error::InvalidRequest("a request thread panicked".into()))?;
        slots
            .into_iter()
            .map(|s| s.ok_or_else(|| Error::InvalidRequest("a request was not run".into()))?)
            .collect()
    }
}

impl Client {
    fn verdict(&self, model: &str, prompt: &str, job: usize) -> Result<Option<f64>, Error> {
        let body = json!({
            "model": model,
            "prompt": prompt,
            "n": 1,
            "temperature": 0.0,
            "max_tokens": 1,
            "logprobs": JUDGE_TOP_LOGPROBS,
        });
        let Some(resp) = self.post(job, "/v1/completions", &body)? else { return Ok(None) };
        let endpoint = &self.opts.endpoints[job % self.opts.endpoints.len()];
        let bad = |m: String| Error::BadResponse { endpoint: endpoint.clone(), message: m };
        let choice = resp["choices"].get(0).ok_or_else(|| bad("no choices".into()))?;
        true_probability_from_choice(choice).map_err(bad)
    }
}

impl HttpPolicy {
    fn has_value_source(&self) -> bool {
        self.local_value.is_some() || self.client.opts.value.is_some()
    }
}

impl ValueModel for HttpPolicy {
    fn value(&mut self, prompts: &[String]) -> Result<Vec<Option<f32>>, Error> {
        if let Some(local) = &mut self.local_value {
            return local.value(prompts);
        }
        let Some(endpoint) = self.client.opts.value.clone() else { return Err(Error::NoValueHead) };
        let model = self.model_name();
        self.client.remote_values(&endpoint, &model, prompts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_map_to_candidates_like_vllm_reports_them() {
        let c = json!({"text": "x = 1", "finish_reason": "stop", "stop_reason": "</code>",
                       "logprobs": {"tokens": ["x", " =", " 1"], "token_logprobs": [-0.5, -0.25, -0.25]}});
        let cand = parse_choice(&c, 1, Some(3)).unwrap();
        assert_eq!((cand.tokens, cand.finish, cand.logprob_sum), (3, Finish::Stop, -1.0));
        let eos = json!({"text": "", "finish_reason": "stop", "stop_reason": null});
        assert_eq!(parse_choice(&eos, 1, Some(1)).unwrap().finish, Finish::Eos);
        let len = json!({"text": "abc", "finish_reason": "length"});
        assert_eq!(parse_choice(&len, 1, Some(7)).unwrap().tokens, 7);
        assert_eq!(last_number(&json!([[0.1, 0.2], [0.3]])), Some(0.3));
        assert_eq!(base("http://h:1/v1/"), "http://h:1");
    }
}
