//! The load generator's HTTP/1.1 client: one keep-alive connection driven by the task
//! that uses it.
//!
//! The load generator shares the machine's cores with the server it measures, so every
//! microsecond it spends on a request is taken from the server. hyper's client runs each
//! connection as a task of its own and hands every request and answer across a channel
//! between two tasks; here the worker writes the request whole (one `write` for head and
//! body) and reads the answer itself, parsing the head with `httparse` (the parser hyper
//! uses). Answers are framed as RFC 9112 §6.3 says: by `Content-Length`, by chunked
//! transfer coding, with no body for 1xx, 204 and 304, or else up to the close.

use std::io::Write as _;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::load::RequestTemplate;

/// How many header lines an answer may have.
const MAX_HEADERS: usize = 64;
/// The largest answer head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// An answer: its status and body, borrowed from the connection until the next request.
#[derive(Debug)]
pub struct Answer<'a> {
    pub status: hyper::StatusCode,
    pub body: &'a [u8],
}

/// One keep-alive HTTP/1.1 connection.
pub struct Connection {
    stream: TcpStream,
    /// The `Host` value.
    authority: String,
    /// Bytes read and not yet consumed: `read[..filled]`.
    read: Vec<u8>,
    filled: usize,
    /// Where the last answer ended in `read` (consumed when the next request is sent).
    consumed: usize,
    /// The request being written, reused.
    out: Vec<u8>,
    /// A chunked body, decoded.
    chunked: Vec<u8>,
    /// The server said it will close (or closed) after the last answer.
    closing: bool,
}

/// How the body of an answer is delimited.
enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

impl Connection {
    /// Connects to `authority` (`HOST:PORT`) with Nagle's algorithm off.
    pub async fn open(authority: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            authority: authority.to_owned(),
            read: vec![0; 16 * 1024],
            filled: 0,
            consumed: 0,
            out: Vec::with_capacity(1024),
            chunked: Vec::new(),
            closing: false,
        })
    }

    /// Whether the connection can carry another request.
    pub fn reusable(&self) -> bool {
        !self.closing
    }

    /// Sends `request` and reads its answer. An error leaves the connection unusable.
    pub async fn exchange(&mut self, request: &RequestTemplate) -> Result<Answer<'_>, String> {
        if self.closing {
            return Err("the server closed the connection".into());
        }
        self.discard_consumed();
        self.encode(request);
        self.stream
            .write_all(&self.out)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let (status, head_len, framing) = self.read_head(&request.method).await?;
        let body = match framing {
            Framing::None => head_len..head_len,
            Framing::Length(n) => {
                self.fill_to(head_len + n).await?;
                head_len..head_len + n
            }
            Framing::UntilClose => {
                while self.read_more().await? > 0 {}
                self.closing = true;
                head_len..self.filled
            }
            Framing::Chunked => {
                let end = self.read_chunked(head_len).await?;
                self.consumed = end;
                return Ok(Answer {
                    status,
                    body: &self.chunked,
                });
            }
        };
        self.consumed = body.end;
        Ok(Answer {
            status,
            body: &self.read[body],
        })
    }

    /// Writes the request head (and body) into `out`. An empty body is sent without
    /// `Content-Length`, as hyper sends an empty `Full` body.
    fn encode(&mut self, request: &RequestTemplate) {
        let out = &mut self.out;
        out.clear();
        let _ = write!(
            out,
            "{} {} HTTP/1.1\r\nhost: {}\r\n",
            request.method, request.path, self.authority
        );
        for (name, value) in &request.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if !request.body.is_empty() {
            let _ = write!(out, "content-length: {}\r\n", request.body.len());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&request.body);
    }

    /// Reads until a whole answer head is buffered (skipping 1xx answers); returns the
    /// status, the head's length and how the body is framed.
    async fn read_head(
        &mut self,
        method: &hyper::Method,
    ) -> Result<(hyper::StatusCode, usize, Framing), String> {
        loop {
            let parsed = {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(&self.read[..self.filled]) {
                    Ok(httparse::Status::Complete(len)) => {
                        let code = response.code.unwrap_or(0);
                        Some((code, len, framing(code, method, response.headers)?))
                    }
                    Ok(httparse::Status::Partial) => None,
                    Err(e) => return Err(format!("bad answer head: {e}")),
                }
            };
            match parsed {
                Some((code, len, _)) if (100..200).contains(&code) => {
                    // An interim answer (100 Continue): the real one follows.
                    self.read.copy_within(len..self.filled, 0);
                    self.filled -= len;
                }
                Some((code, len, (framing, close))) => {
                    let status = hyper::StatusCode::from_u16(code)
                        .map_err(|_| format!("bad status code {code}"))?;
                    self.closing = close;
                    return Ok((status, len, framing));
                }
                None if self.filled >= MAX_HEAD => return Err("answer head too long".into()),
                None => {
                    if self.read_more().await? == 0 {
                        return Err("the server closed the connection before answering".into());
                    }
                }
            }
        }
    }

    /// Decodes a chunked body starting at `at` into `chunked`; returns where it ended.
    async fn read_chunked(&mut self, mut at: usize) -> Result<usize, String> {
        self.chunked.clear();
        loop {
            let (consumed, size) = loop {
                match httparse::parse_chunk_size(&self.read[at..self.filled]) {
                    Ok(httparse::Status::Complete((consumed, size))) => break (consumed, size),
                    Ok(httparse::Status::Partial) => {
                        if self.read_more().await? == 0 {
                            return Err("closed inside a chunked body".into());
                        }
                    }
                    Err(_) => return Err("bad chunk size".into()),
                }
            };
            at += consumed;
            let size = usize::try_from(size).map_err(|_| "chunk too large".to_string())?;
            if size == 0 {
                // No trailers are expected: the body ends with an empty line.
                self.fill_to(at + 2).await?;
                if &self.read[at..at + 2] != b"\r\n" {
                    return Err("trailers after a chunked body are not supported".into());
                }
                return Ok(at + 2);
            }
            self.fill_to(at + size + 2).await?;
            self.chunked.extend_from_slice(&self.read[at..at + size]);
            at += size + 2;
        }
    }

    /// Reads until at least `end` bytes are buffered.
    async fn fill_to(&mut self, end: usize) -> Result<(), String> {
        if self.read.len() < end {
            self.read.resize(end, 0);
        }
        while self.filled < end {
            if self.read_more().await? == 0 {
                return Err("the server closed the connection inside an answer".into());
            }
        }
        Ok(())
    }

    /// One read into the free end of the buffer (grown when full); 0 at the close.
    async fn read_more(&mut self) -> Result<usize, String> {
        if self.filled == self.read.len() {
            let grown = self.read.len() * 2;
            self.read.resize(grown, 0);
        }
        let n = self
            .stream
            .read(&mut self.read[self.filled..])
            .await
            .map_err(|e| format!("read: {e}"))?;
        self.filled += n;
        Ok(n)
    }

    /// Drops the last answer's bytes, keeping anything read past it.
    fn discard_consumed(&mut self) {
        if self.consumed > 0 {
            self.read.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }
}

/// How the body of an answer with `code` to `method` is framed, and whether the server
/// closes after it.
fn framing(
    code: u16,
    method: &hyper::Method,
    headers: &[httparse::Header<'_>],
) -> Result<(Framing, bool), String> {
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    for header in headers {
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| format!("bad content-length {value:?}"))?;
            if length.is_some_and(|l| l != n) {
                return Err("conflicting content-length headers".into());
            }
            length = Some(n);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if header.name.eq_ignore_ascii_case("connection") {
            close |= value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"));
        }
    }
    let framing = if *method == hyper::Method::HEAD || code == 204 || code == 304 {
        Framing::None
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    Ok((framing, close))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use bytes::Bytes;

    /// Where `needle` is in `haystack`.
    fn find(haystack: &[u8], needle: &[u8]) -> Option<std::ops::Range<usize>> {
        haystack
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|at| at..at + needle.len())
    }

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        addr
    }

    /// A raw server that answers each request on a connection with the next canned answer.
    async fn canned(answers: Vec<&'static [u8]>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for answer in answers {
                // Wait for the end of a request head (the tests send no bodies).
                loop {
                    if let Some(end) = find(&seen, b"\r\n\r\n") {
                        seen.drain(..end.end);
                        break;
                    }
                    let mut buf = [0u8; 1024];
                    let n = stream.read(&mut buf).await.unwrap();
                    assert!(n > 0, "client closed early");
                    seen.extend_from_slice(&buf[..n]);
                }
                // Split each answer in two writes, so the client must read twice.
                let half = answer.len() / 2;
                stream.write_all(&answer[..half]).await.unwrap();
                stream.flush().await.unwrap();
                tokio::task::yield_now().await;
                stream.write_all(&answer[half..]).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn keeps_one_connection_for_many_requests_with_bodies_and_headers() {
        let router = Router::new()
            .route(
                "/echo",
                post(|headers: axum::http::HeaderMap, body: Bytes| async move {
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    format!("{auth}|{}", String::from_utf8_lossy(&body))
                }),
            )
            .route("/empty", get(|| async { StatusCode::NO_CONTENT }));
        let addr = serve(router).await;
        let mut connection = Connection::open(&addr).await.unwrap();
        for n in 0..3 {
            let request = RequestTemplate::post_json("/echo", &serde_json::json!({ "n": n }))
                .bearer("secret");
            let answer = connection.exchange(&request).await.unwrap();
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(
                std::str::from_utf8(answer.body).unwrap(),
                format!("Bearer secret|{{\"n\":{n}}}")
            );
            let answer = connection
                .exchange(&RequestTemplate::get("/empty"))
                .await
                .unwrap();
            assert_eq!(answer.status, StatusCode::NO_CONTENT);
            assert!(answer.body.is_empty());
            let answer = connection
                .exchange(&RequestTemplate::get("/none"))
                .await
                .unwrap();
            assert_eq!(answer.status, StatusCode::NOT_FOUND);
        }
        assert!(connection.reusable());
    }

    #[tokio::test]
    async fn reads_answers_split_across_reads_interim_answers_and_the_close() {
        let addr = canned(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nconnection: close\r\n\r\nuntil the end",
        ])
        .await;
        let mut connection = Connection::open(&addr).await.unwrap();
        let get = RequestTemplate::get("/");
        let answer = connection.exchange(&get).await.unwrap();
        assert_eq!((answer.status.as_u16(), answer.body), (200, &b"hello"[..]));
        let answer = connection.exchange(&get).await.unwrap();
        assert_eq!((answer.status.as_u16(), answer.body), (200, &b"abcde"[..]));
        let answer = connection.exchange(&get).await.unwrap();
        assert_eq!(
            (answer.status.as_u16(), answer.body),
            (201, &b"until the end"[..])
        );
        assert!(!connection.reusable());
        assert!(connection.exchange(&get).await.is_err());
    }

    #[tokio::test]
    async fn a_malformed_answer_is_an_error() {
        let addr = canned(vec![b"HTTP/1.1 200 OK\r\ncontent-length: many\r\n\r\n"]).await;
        let mut connection = Connection::open(&addr).await.unwrap();
        let err = connection
            .exchange(&RequestTemplate::get("/"))
            .await
            .unwrap_err();
        assert!(err.contains("content-length"), "{err}");
    }
}
