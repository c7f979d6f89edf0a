//! The HTTP/1.1 framer: cuts a byte stream into whole request or response messages, kept
//! verbatim, so toxics act per message. It parses only what framing needs (first line,
//! `Content-Length`, chunked `Transfer-Encoding`); no toxic logic goes here.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest accepted request or status line plus headers.
const MAX_HEAD: usize = 64 * 1024;

/// One HTTP message, verbatim, with what the toxics need from its first line.
pub(super) struct Message {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) bytes: Vec<u8>,
}

/// How a message body is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Reads whole HTTP/1.1 messages from a byte stream, keeping their exact bytes.
pub(super) struct MessageReader<R> {
    r: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> MessageReader<R> {
    pub(super) fn new(r: R) -> Self {
        MessageReader { r, buf: Vec::new() }
    }

    /// Whether bytes of a next message are already buffered.
    pub(super) fn has_buffered(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Reads more bytes into the buffer; `false` at end of stream. Cancel-safe: bytes join
    /// the buffer only once a read has completed.
    pub(super) async fn fill(&mut self) -> std::io::Result<bool> {
        self.buf.reserve(16 * 1024);
        // `read_buf` is cancel-safe: it appends only what a completed read returned.
        let n = self.r.read_buf(&mut self.buf).await?;
        Ok(n > 0)
    }

    /// Takes bytes up to and including the first `delim`; `None` at a clean end of stream.
    async fn take_through(&mut self, delim: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buf.windows(delim.len()).position(|w| w == delim) {
                return Ok(Some(self.buf.drain(..i + delim.len()).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("HTTP head too large"));
            }
            if !self.fill().await? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(std::io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    async fn take_exact(&mut self, n: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        out.extend(self.buf.drain(..n));
        Ok(())
    }

    pub(super) async fn read_request(&mut self) -> std::io::Result<Option<Message>> {
        let Some(head) = self.take_through(b"\r\n\r\n").await? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&head);
        let mut first = text.lines().next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_string();
        let target = first.next().unwrap_or_default().to_string();
        let framing = match framing(&text)? {
            Framing::UntilClose => Framing::Length(0),
            f => f,
        };
        let bytes = self.read_body(head, framing).await?;
        Ok(Some(Message {
            method,
            target,
            bytes,
        }))
    }

    pub(super) async fn read_response(
        &mut self,
        head_request: bool,
    ) -> std::io::Result<Option<Message>> {
        let Some(head) = self.take_through(b"\r\n\r\n").await? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&head);
        let status: u16 = text
            .lines()
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("bad status line"))?;
        let no_body = head_request || status / 100 == 1 || status == 204 || status == 304;
        let framing = if no_body {
            Framing::Length(0)
        } else {
            framing(&text)?
        };
        let bytes = self.read_body(head, framing).await?;
        Ok(Some(Message {
            method: String::new(),
            target: String::new(),
            bytes,
        }))
    }

    async fn read_body(&mut self, mut out: Vec<u8>, framing: Framing) -> std::io::Result<Vec<u8>> {
        match framing {
            Framing::Length(n) => self.take_exact(n, &mut out).await?,
            Framing::Chunked => loop {
                let line = self
                    .take_through(b"\r\n")
                    .await?
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                let size_text = String::from_utf8_lossy(&line);
                let size_hex = size_text.trim().split(';').next().unwrap_or_default();
                let size =
                    usize::from_str_radix(size_hex, 16).map_err(|_| invalid("bad chunk size"))?;
                out.extend(line);
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        let t = self
                            .take_through(b"\r\n")
                            .await?
                            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                        let last = t.len() == 2;
                        out.extend(t);
                        if last {
                            break;
                        }
                    }
                    break;
                }
                self.take_exact(size + 2, &mut out).await?;
            },
            Framing::UntilClose => {
                out.append(&mut self.buf);
                while self.fill().await? {
                    out.append(&mut self.buf);
                }
            }
        }
        Ok(out)
    }
}

fn framing(head: &str) -> std::io::Result<Framing> {
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            return Ok(Framing::Chunked);
        }
        if name.eq_ignore_ascii_case("content-length") {
            let n = value.parse().map_err(|_| invalid("bad Content-Length"))?;
            return Ok(Framing::Length(n));
        }
    }
    Ok(Framing::UntilClose)
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reader_keeps_messages_verbatim_and_splits_keep_alive() {
        let raw: &[u8] =
            b"POST /a?b=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
        let mut r = MessageReader::new(raw);
        let m = r
            .read_request()
            .await
            .ok()
            .flatten()
            .map(|m| (m.method, m.target, m.bytes));
        assert_eq!(
            m,
            Some((
                "POST".into(),
                "/a?b=1".into(),
                raw.get(..46).unwrap_or_default().to_vec()
            ))
        );
        let m = r.read_request().await.ok().flatten().map(|m| m.target);
        assert_eq!(m.as_deref(), Some("/"));
        assert!(matches!(r.read_request().await, Ok(None)));
    }

    #[tokio::test]
    async fn reader_passes_chunked_answers_through() {
        let raw: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let mut r = MessageReader::new(raw);
        let first = r
            .read_response(false)
            .await
            .ok()
            .flatten()
            .map(|m| m.bytes.len());
        assert_eq!(first, Some(raw.len() - 27));
        assert!(r.read_response(false).await.ok().flatten().is_some());
        assert!(matches!(r.read_response(false).await, Ok(None)));
    }
}
