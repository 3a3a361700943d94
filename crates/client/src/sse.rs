//! The Server-Sent Events stream of `GET /api/v1/events/stream`.

use reqwest::{Response, Url};

use crate::Error;

/// Longest event (all its lines) the stream accepts before failing, against a runaway server.
const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// One event read from the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedEvent {
    /// The `id:` field: the event's `seq`, to resume after.
    pub seq: Option<u64>,
    /// The `event:` field, e.g. `monitor.down` (`message` when absent).
    pub event_type: String,
    /// The `data:` field, parsed as JSON.
    pub data: serde_json::Value,
}

/// An open event stream; read it with [`EventStream::next`].
#[derive(Debug)]
pub struct EventStream {
    response: Response,
    url: Url,
    parser: Parser,
}

impl EventStream {
    pub(crate) fn new(response: Response, url: Url) -> Self {
        Self {
            response,
            url,
            parser: Parser::default(),
        }
    }

    /// The next event; `None` when the server closed the stream. Heartbeat comments are skipped.
    pub async fn next(&mut self) -> Result<Option<StreamedEvent>, Error> {
        loop {
            if let Some(raw) = self.parser.next_event() {
                let data = serde_json::from_str(&raw.data)
                    .map_err(|e| Error::decode(&self.url, format!("event data: {e}")))?;
                return Ok(Some(StreamedEvent {
                    seq: raw.id.and_then(|id| id.trim().parse().ok()),
                    event_type: raw.event.unwrap_or_else(|| "message".to_owned()),
                    data,
                }));
            }
            if self.parser.pending_bytes() > MAX_EVENT_BYTES {
                return Err(Error::decode(&self.url, "an event exceeds 4 MiB"));
            }
            match self
                .response
                .chunk()
                .await
                .map_err(|e| Error::transport(&self.url, &e))?
            {
                Some(bytes) => self.parser.feed(&bytes),
                None => return Ok(None),
            }
        }
    }
}

/// An event as the wire has it, before its data is parsed.
#[derive(Debug, Default, PartialEq)]
struct RawEvent {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

/// Incremental SSE parser (the WHATWG event-stream format).
#[derive(Debug, Default)]
struct Parser {
    buffer: Vec<u8>,
    current: RawEvent,
    has_data: bool,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    fn pending_bytes(&self) -> usize {
        self.buffer.len() + self.current.data.len()
    }

    /// The next complete event in the buffer, consuming the lines read.
    fn next_event(&mut self) -> Option<RawEvent> {
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if self.has_data {
                    self.has_data = false;
                    return Some(std::mem::take(&mut self.current));
                }
                self.current = RawEvent::default();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "id" => self.current.id = Some(value.to_owned()),
                "event" => self.current.event = Some(value.to_owned()),
                "data" => {
                    if self.has_data {
                        self.current.data.push('\n');
                    }
                    self.current.data.push_str(value);
                    self.has_data = true;
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_comments_are_skipped() {
        let mut p = Parser::default();
        p.feed(b": heartbeat\n\nid: 7\nevent: monitor.down\nda");
        assert_eq!(p.next_event(), None);
        p.feed(b"ta: {\"a\":\r\ndata: 1}\r\n\r\nid: 8\ndata: {}\n\n");
        assert_eq!(
            p.next_event(),
            Some(RawEvent {
                id: Some("7".into()),
                event: Some("monitor.down".into()),
                data: "{\"a\":\n1}".into()
            })
        );
        assert_eq!(
            p.next_event(),
            Some(RawEvent {
                id: Some("8".into()),
                event: None,
                data: "{}".into()
            })
        );
        assert_eq!(p.next_event(), None);
        assert_eq!(p.pending_bytes(), 0);
    }
}
