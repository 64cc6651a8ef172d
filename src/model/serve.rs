//! `arbor serve`: a [`CandleModel`] behind the OpenAI-compatible `/v1/completions` API plus
//! `/v1/values`, so one machine's model (and value head) serves searches run elsewhere.
//!
//! The model lives on one engine thread; HTTP handlers (tokio, axum) send it jobs over a channel
//! and await the reply. Completion requests that arrive while the model is busy are answered
//! together by one batched `generate` call.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::oneshot;

use super::openai::{
    CONTEXT_EXCEEDED, Choice, CompletionRequest, CompletionResponse, ErrorBody, ErrorDetail, Logprobs, Usage,
    ValuesRequest, ValuesResponse,
};
use super::{CandleModel, Error, Finish, GenRequest, GenResponse, Policy, ValueModel};

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: String,
    /// 0 picks a free port (printed at start).
    pub port: u16,
    /// The id reported by `/v1/models` and in responses.
    pub model_name: String,
}

type Reply<T> = oneshot::Sender<Result<T, (StatusCode, String)>>;

enum Job {
    Complete(Box<CompletionRequest>, Reply<CompletionResponse>),
    Values(Vec<String>, Reply<ValuesResponse>),
}

#[derive(Clone)]
struct AppState {
    jobs: mpsc::Sender<Job>,
    name: Arc<String>,
    context_len: usize,
}

/// Serves until the process is stopped; `ready` gets the bound address once listening.
pub fn serve(model: CandleModel, opts: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Io { path: format!("{}:{}", opts.host, opts.port).into(), source: e };
    let context_len = model.context_len();
    let (jobs, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("arbor-model".into()).spawn(move || engine(model, rx)).map_err(io)?;
    let state = AppState { jobs, name: Arc::new(opts.model_name.clone()), context_len };
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/models", get(models))
        .route("/v1/completions", post(completions))
        .route("/v1/values", post(values))
        .with_state(state);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(io)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((opts.host.as_str(), opts.port)).await.map_err(io)?;
        ready(listener.local_addr().map_err(io)?);
        axum::serve(listener, app).await.map_err(io)
    })
}

/// The engine thread: owns the model. Completion requests waiting together are answered by
/// one `generate` call, so their samples decode in one batch.
fn engine(mut model: CandleModel, rx: mpsc::Receiver<Job>) {
    let seeds = AtomicU64::new(0x5EED);
    let mut pending: Option<Job> = None;
    loop {
        let job = match pending.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        match job {
            Job::Complete(req, reply) => {
                let mut batch = vec![(*req, reply)];
                while let Ok(next) = rx.try_recv() {
                    match next {
                        Job::Complete(req, reply) => batch.push((*req, reply)),
                        other => {
                            pending = Some(other);
                            break;
                        }
                    }
                }
                complete_batch(&mut model, batch, &seeds);
            }
            Job::Values(prompts, reply) => {
                let result = match model.value(&prompts) {
                    Ok(values) => Ok(ValuesResponse { values }),
                    Err(e @ Error::NoValueHead) => Err((StatusCode::BAD_REQUEST, e.to_string())),
                    Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
                };
                let _ = reply.send(result);
            }
        }
    }
}

fn complete_batch(
    model: &mut CandleModel,
    batch: Vec<(CompletionRequest, Reply<CompletionResponse>)>,
    seeds: &AtomicU64,
) {
    let per_request: Vec<Vec<GenRequest>> = batch.iter().map(|(req, _)| gen_requests(req, seeds)).collect();
    let all: Vec<GenRequest> = per_request.iter().flatten().cloned().collect();
    match model.generate(&all) {
        Ok(responses) => {
            let mut responses = responses.into_iter();
            for ((req, reply), reqs) in batch.into_iter().zip(&per_request) {
                let mine: Vec<GenResponse> = responses.by_ref().take(reqs.len()).collect();
                let _ = reply.send(completion_response(model, req, mine, seeds));
            }
        }
        Err(e) => {
            let status = match e {
                Error::InvalidRequest(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let message = e.to_string();
            for (_, reply) in batch {
                let _ = reply.send(Err((status, message.clone())));
            }
        }
    }
}

fn gen_requests(req: &CompletionRequest, seeds: &AtomicU64) -> Vec<GenRequest> {
    let stop = req.stop.clone().map(|s| s.into_vec()).unwrap_or_default();
    req.prompt
        .clone()
        .into_vec()
        .into_iter()
        .map(|prompt| GenRequest {
            prompt,
            n: req.n,
            temperature: req.temperature,
            top_p: req.top_p,
            top_k: req.top_k.filter(|&k| k > 0).map_or(0, |k| k as usize),
            max_tokens: req.max_tokens,
            stop: stop.clone(),
            seed: req.seed.unwrap_or_else(|| seeds.fetch_add(1, Ordering::Relaxed)),
            want_value: true,
        })
        .collect()
}

fn completion_response(
    model: &CandleModel,
    req: CompletionRequest,
    responses: Vec<GenResponse>,
    seeds: &AtomicU64,
) -> Result<CompletionResponse, (StatusCode, String)> {
    if req.n > 0 && responses.iter().any(|r| r.candidates.is_empty()) {
        let ctx = model.context_len();
        return Err((
            StatusCode::BAD_REQUEST,
            format!(
                "This model's maximum context length is {ctx} tokens; the prompt plus max_tokens ({}) does not fit",
                req.max_tokens
            ),
        ));
    }
    let mut choices = Vec::new();
    let mut completion_tokens = 0;
    for (p, r) in responses.iter().enumerate() {
        for (j, c) in r.candidates.iter().enumerate() {
            completion_tokens += c.tokens;
            let logprobs = req.logprobs.map(|_| Logprobs {
                tokens: c.token_ids.iter().map(|&t| model.tokenizer().token_text(t)).collect(),
                token_logprobs: c.token_logprobs.iter().map(|&l| Some(l as f64)).collect(),
            });
            choices.push(Choice {
                index: p * req.n + j,
                text: c.text.clone(),
                finish_reason: Some(if c.finish == Finish::Length { "length" } else { "stop" }.into()),
                stop_reason: Some(
                    c.stop_reason.clone().map_or(serde_json::Value::Null, serde_json::Value::String),
                ),
                logprobs,
            });
        }
    }
    let prompt_tokens: usize = responses.iter().map(|r| r.prompt_tokens).sum();
    Ok(CompletionResponse {
        id: format!("cmpl-{}", seeds.fetch_add(1, Ordering::Relaxed)),
        object: "text_completion".into(),
        model: req.model,
        choices,
        usage: Some(Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }),
        values: Some(responses.iter().map(|r| r.value).collect()),
        prompt_token_counts: Some(responses.iter().map(|r| r.prompt_tokens).collect()),
    })
}

fn error_response(status: StatusCode, message: String) -> Response {
    let code = (status == StatusCode::BAD_REQUEST && message.contains("maximum context length"))
        .then(|| CONTEXT_EXCEEDED.to_string());
    let body = ErrorBody { error: ErrorDetail { message, r#type: "invalid_request_error".into(), code } };
    (status, Json(body)).into_response()
}

async fn run<T: serde::Serialize>(state: &AppState, job: impl FnOnce(Reply<T>) -> Job) -> Response {
    let (tx, rx) = oneshot::channel();
    if state.jobs.send(job(tx)).is_err() {
        return error_response(StatusCode::SERVICE_UNAVAILABLE, "the model thread has stopped".into());
    }
    match rx.await {
        Ok(Ok(body)) => Json(body).into_response(),
        Ok(Err((status, message))) => error_response(status, message),
        Err(_) => {
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "the model thread dropped the request".into())
        }
    }
}

async fn completions(State(state): State<AppState>, Json(mut req): Json<CompletionRequest>) -> Response {
    if req.model.is_empty() {
        req.model = state.name.to_string();
    }
    run(&state, |reply| Job::Complete(Box::new(req), reply)).await
}

async fn values(State(state): State<AppState>, Json(req): Json<ValuesRequest>) -> Response {
    run(&state, |reply| Job::Values(req.prompts, reply)).await
}

async fn models(State(state): State<AppState>) -> Response {
    Json(
        json!({"object": "list", "data": [{"id": state.name.as_str(), "object": "model", "owned_by": "arbor",
                 "max_model_len": state.context_len}]}),
    )
    .into_response()
}
