//! Email endpoints against a minimal SMTP server the test starts on 127.0.0.1 (plain, STARTTLS
//! and implicit TLS with a certificate from a test CA made with rcgen, optional AUTH PLAIN/LOGIN),
//! through the real dispatcher and a SQLite store.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use vedette_model::event::EVENT_VERSION;
use vedette_model::webhook::{
    EmailSpec, EndpointSpec, Secret, SmtpSecurity, SmtpSpec, TemplateSpec,
};
use vedette_model::{Event, EventType};
use vedette_store::{MessageFilter, MessageStatus, Store, WebhookMessage};
use vedette_webhooks::smtp;
use vedette_webhooks::{Catalog, Dispatcher, EndpointRules, Engine, RetryPolicy};

mod support;
use support::{config, fast_retry, put_endpoint, sqlite_store};

// ---------------------------------------------------------------------------------------------
// A minimal SMTP server

/// How the server secures connections.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Starttls,
    ImplicitTls,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
    tls: bool,
    user: Option<String>,
}

impl Mail {
    fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].to_owned())
    }
    fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }
}

struct ServerState {
    mode: Mode,
    credentials: Option<(String, String)>,
    acceptor: Option<TlsAcceptor>,
    mails: Mutex<Vec<Mail>>,
    auth_failures: AtomicUsize,
}

/// Stops accepting when dropped.
struct SmtpServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: CancellationToken,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl SmtpServer {
    async fn start(mode: Mode, credentials: Option<(&str, &str)>, cert: Option<&Certs>) -> Self {
        let acceptor = cert.map(|c| {
            let config = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![c.leaf.clone()], c.key.clone_key())
            .expect("server cert");
            TlsAcceptor::from(Arc::new(config))
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let state = Arc::new(ServerState {
            mode,
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
            acceptor,
            mails: Mutex::new(Vec::new()),
            auth_failures: AtomicUsize::new(0),
        });
        let stop = CancellationToken::new();
        let server = Self {
            addr: listener.local_addr().expect("addr"),
            state: Arc::clone(&state),
            stop: stop.clone(),
        };
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    () = stop.cancelled() => return,
                    r = listener.accept() => match r { Ok(s) => s, Err(_) => continue },
                };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        server
    }

    fn mails(&self) -> Vec<Mail> {
        self.state.mails.lock().expect("lock").clone()
    }
}

async fn serve(stream: TcpStream, state: Arc<ServerState>) -> std::io::Result<()> {
    match state.mode {
        Mode::ImplicitTls => {
            let acceptor = state.acceptor.clone().expect("acceptor");
            let tls = acceptor.accept(stream).await?;
            session(tls, &state, true, true).await?;
        }
        Mode::Plain | Mode::Starttls => {
            if let Some(plain) = session(stream, &state, false, true).await? {
                let acceptor = state.acceptor.clone().expect("acceptor");
                let tls = acceptor.accept(plain).await?;
                session(tls, &state, true, false).await?;
            }
        }
    }
    Ok(())
}

/// Runs SMTP commands over `stream`; answers the stream back when the client asks for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    state: &ServerState,
    tls: bool,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut io = BufReader::new(stream);
    if greet {
        io.write_all(b"220 test.local ESMTP ready\r\n").await?;
    }
    let mut user: Option<String> = None;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let b64 = base64::engine::general_purpose::STANDARD;
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut reply = String::from("250-test.local\r\n");
            if state.mode == Mode::Starttls && !tls {
                reply.push_str("250-STARTTLS\r\n");
            }
            if state.credentials.is_some() && (tls || state.mode == Mode::Plain) {
                reply.push_str("250-AUTH PLAIN LOGIN\r\n");
            }
            reply.push_str("250 8BITMIME\r\n");
            io.write_all(reply.as_bytes()).await?;
        } else if upper == "STARTTLS" && state.mode == Mode::Starttls && !tls {
            io.write_all(b"220 2.0.0 go ahead\r\n").await?;
            return Ok(Some(io.into_inner()));
        } else if upper.starts_with("AUTH ") {
            let parts: Vec<&str> = cmd.split_whitespace().collect();
            let (u, p) = if parts[1].eq_ignore_ascii_case("PLAIN") {
                let token = match parts.get(2) {
                    Some(t) => (*t).to_owned(),
                    None => {
                        io.write_all(b"334 \r\n").await?;
                        read_line(&mut io).await?
                    }
                };
                let raw = b64.decode(token.trim()).unwrap_or_default();
                let fields: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                (
                    fields.get(1).cloned().unwrap_or_default(),
                    fields.get(2).cloned().unwrap_or_default(),
                )
            } else {
                let u = match parts.get(2) {
                    Some(t) => (*t).to_owned(),
                    None => {
                        io.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                        read_line(&mut io).await?
                    }
                };
                io.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                let p = read_line(&mut io).await?;
                let d = |s: &str| {
                    String::from_utf8_lossy(&b64.decode(s).unwrap_or_default()).into_owned()
                };
                (d(u.trim()), d(p.trim()))
            };
            if state.credentials.as_ref() == Some(&(u.clone(), p)) {
                user = Some(u);
                io.write_all(b"235 2.7.0 Authentication successful\r\n")
                    .await?;
            } else {
                state.auth_failures.fetch_add(1, Ordering::SeqCst);
                io.write_all(b"535 5.7.8 Authentication credentials invalid\r\n")
                    .await?;
            }
        } else if upper.starts_with("MAIL FROM:") {
            if state.credentials.is_some() && user.is_none() {
                io.write_all(b"530 5.7.0 Authentication required\r\n")
                    .await?;
                continue;
            }
            from = addr_of(&cmd);
            to.clear();
            io.write_all(b"250 2.1.0 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(addr_of(&cmd));
            io.write_all(b"250 2.1.5 OK\r\n").await?;
        } else if upper == "DATA" {
            io.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if io.read_line(&mut l).await? == 0 {
                    return Ok(None);
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            let n = {
                let mut mails = state.mails.lock().expect("lock");
                mails.push(Mail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                    tls,
                    user: user.clone(),
                });
                mails.len()
            };
            io.write_all(format!("250 2.0.0 Ok: queued as Q{n}\r\n").as_bytes())
                .await?;
        } else if upper == "RSET" || upper == "NOOP" {
            io.write_all(b"250 2.0.0 OK\r\n").await?;
        } else if upper == "QUIT" {
            io.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(None);
        } else {
            io.write_all(b"502 5.5.2 Command not recognized\r\n")
                .await?;
        }
    }
}

async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
) -> std::io::Result<String> {
    let mut l = String::new();
    io.read_line(&mut l).await?;
    Ok(l.trim_end().to_owned())
}

fn addr_of(cmd: &str) -> String {
    let start = cmd.find('<').map_or(0, |i| i + 1);
    let end = cmd.find('>').unwrap_or(cmd.len());
    cmd[start..end].to_owned()
}

/// A test CA and a leaf for 127.0.0.1 it signed.
struct Certs {
    ca_pem: String,
    leaf: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl Certs {
    fn new() -> Self {
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Vedette SMTP Test CA");
        let ca_key = KeyPair::generate().expect("key");
        let ca_cert = ca.self_signed(&ca_key).expect("CA");
        let issuer = Issuer::new(ca, ca_key);
        let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("params");
        leaf.distinguished_name
            .push(DnType::CommonName, "smtp test server");
        let key = KeyPair::generate().expect("key");
        let cert = leaf.signed_by(&key, &issuer).expect("leaf");
        Self {
            ca_pem: ca_cert.pem(),
            leaf: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Harness

fn start(store: &Store, retry: RetryPolicy) -> CancellationToken {
    let d = Dispatcher::new(store.clone(), config(retry)).expect("dispatcher");
    let stop = CancellationToken::new();
    tokio::spawn(d.run(stop.clone()));
    stop
}

fn email_spec(server: &SmtpServer, security: SmtpSecurity) -> EndpointSpec {
    let mut spec = EndpointSpec::email(EmailSpec {
        smtp: SmtpSpec {
            host: "127.0.0.1".to_owned(),
            port: Some(server.addr.port()),
            security,
            username: None,
            password: None,
            tls_verify: true,
            ca_pem: None,
        },
        from: "Vedette <alerts@vedette.test>".to_owned(),
        to: vec![
            "oncall@example.test".to_owned(),
            "Ops <ops@example.test>".to_owned(),
        ],
        subject: None,
    });
    spec.timeout = vedette_model::Duration::from(Duration::from_secs(5));
    spec
}

fn smtp_of(spec: &mut EndpointSpec) -> &mut SmtpSpec {
    &mut spec.email.as_mut().expect("email").smtp
}

async fn put(store: &Store, id: &str, spec: &EndpointSpec) {
    let mut checked = spec.clone();
    checked
        .validate(&Catalog::builtin().expect("catalog"), &Engine::default())
        .expect("valid spec");
    put_endpoint(store, id, &checked).await;
}

fn event(t: EventType, monitor: &str, message: &str) -> Event {
    Event {
        id: format!("evt_{}", uuid_like()),
        event_type: t,
        version: EVENT_VERSION,
        occurred_at: Utc::now(),
        monitor_id: Some(monitor.to_owned()),
        data: serde_json::json!({"monitor_id": monitor, "monitor_name": monitor, "message": message}),
    }
}

fn uuid_like() -> String {
    use rand::RngExt;
    format!("{:016x}", rand::rng().random::<u64>())
}

async fn messages(store: &Store, endpoint: &str, status: MessageStatus) -> Vec<WebhookMessage> {
    store
        .list_webhook_messages(&MessageFilter {
            endpoint_id: Some(endpoint.to_owned()),
            status: Some(status),
            limit: 100,
            ..MessageFilter::default()
        })
        .await
        .expect("messages")
}

async fn wait_status(
    store: &Store,
    endpoint: &str,
    status: MessageStatus,
    n: usize,
) -> Vec<WebhookMessage> {
    let start = Instant::now();
    loop {
        let found = messages(store, endpoint, status).await;
        if found.len() >= n {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {n} {status:?} message(s) of {endpoint}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Cases

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_delivery_with_the_default_text() {
    let (store, _dir) = sqlite_store().await;
    let server = SmtpServer::start(Mode::Plain, None, None).await;
    put(&store, "mail", &email_spec(&server, SmtpSecurity::None)).await;
    let stop = start(&store, fast_retry(2, Duration::from_millis(100)));
    store
        .append_events(&[event(EventType::MonitorDown, "payments-api", "HTTP 503")])
        .await
        .expect("event");
    let delivered = wait_status(&store, "mail", MessageStatus::Succeeded, 1).await;
    stop.cancel();
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "alerts@vedette.test");
    assert_eq!(mail.to, vec!["oncall@example.test", "ops@example.test"]);
    assert!(!mail.tls && mail.user.is_none());
    // Message-ID follows the queue message id, so retries and replays keep it.
    assert_eq!(
        mail.header("Message-ID").as_deref(),
        Some(smtp::mail_message_id(&delivered[0].id).as_str())
    );
    let subject = mail.header("Subject").expect("subject");
    assert_eq!(subject, "[Vedette] payments-api is down: HTTP 503");
    let body = mail.body();
    assert!(body.contains("Event:     monitor.down"), "{body}");
    assert!(body.contains("Monitor:   payments-api"), "{body}");
    assert!(body.contains("HTTP 503"), "{body}");
    // The delivery log has the SMTP reply.
    let log = store
        .list_webhook_attempts(&delivered[0].id)
        .await
        .expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, "success");
    assert_eq!(log[0].response_status, Some(250));
    let response = log[0].response.as_ref().expect("response");
    assert_eq!(response["code"], 250);
    assert!(
        response["message"]
            .as_str()
            .expect("text")
            .contains("queued as Q1"),
        "{response}"
    );
    assert_eq!(log[0].request["to"][0], "oncall@example.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_auth_verifies_the_certificate() {
    let (store, _dir) = sqlite_store().await;
    let certs = Certs::new();
    let server = SmtpServer::start(
        Mode::Starttls,
        Some(("vedette", "sm7p-pa55word")),
        Some(&certs),
    )
    .await;
    // Trusting the test CA.
    let mut with_ca = email_spec(&server, SmtpSecurity::Starttls);
    let smtp = smtp_of(&mut with_ca);
    smtp.ca_pem = Some(certs.ca_pem.clone());
    smtp.username = Some("vedette".to_owned());
    smtp.password = Some(Secret::new("sm7p-pa55word"));
    with_ca.event_types = vec!["monitor.down".to_owned()];
    // Not verifying at all.
    let mut no_verify = with_ca.clone();
    smtp_of(&mut no_verify).ca_pem = None;
    smtp_of(&mut no_verify).tls_verify = false;
    // Verifying against the public roots only: the test CA is unknown, so it must fail.
    let mut untrusted = with_ca.clone();
    smtp_of(&mut untrusted).ca_pem = None;
    put(&store, "with-ca", &with_ca).await;
    put(&store, "no-verify", &no_verify).await;
    put(&store, "untrusted", &untrusted).await;
    let stop = start(&store, fast_retry(1, Duration::from_millis(50)));
    store
        .append_events(&[event(EventType::MonitorDown, "db", "timeout")])
        .await
        .expect("event");
    wait_status(&store, "with-ca", MessageStatus::Succeeded, 1).await;
    wait_status(&store, "no-verify", MessageStatus::Succeeded, 1).await;
    let failed = wait_status(&store, "untrusted", MessageStatus::Failed, 1).await;
    stop.cancel();
    let mails = server.mails();
    assert_eq!(mails.len(), 2, "{mails:?}");
    for mail in &mails {
        assert!(mail.tls, "sent after STARTTLS");
        assert_eq!(mail.user.as_deref(), Some("vedette"));
    }
    let log = store
        .list_webhook_attempts(&failed[0].id)
        .await
        .expect("log");
    assert_eq!(
        log[0].error.as_deref(),
        Some(
            "TLS certificate of 127.0.0.1 is not trusted: it is self-signed or issued by an \
             authority outside the public roots"
        )
    );
    assert_eq!(log[0].response_status, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_says_connection_refused() {
    let (store, _dir) = sqlite_store().await;
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut spec = EndpointSpec::email(EmailSpec {
        smtp: SmtpSpec {
            host: "127.0.0.1".to_owned(),
            port: Some(port),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            tls_verify: true,
            ca_pem: None,
        },
        from: "alerts@vedette.test".to_owned(),
        to: vec!["oncall@example.test".to_owned()],
        subject: None,
    });
    spec.timeout = vedette_model::Duration::from(Duration::from_secs(5));
    put(&store, "closed", &spec).await;
    let stop = start(&store, fast_retry(1, Duration::from_millis(50)));
    store
        .append_events(&[event(EventType::MonitorDown, "db", "timeout")])
        .await
        .expect("event");
    let failed = wait_status(&store, "closed", MessageStatus::Failed, 1).await;
    stop.cancel();
    assert_eq!(
        failed[0].last_error,
        Some(format!(
            "connection refused by 127.0.0.1:{port} (nothing listens on that port)"
        ))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_delivery() {
    let (store, _dir) = sqlite_store().await;
    let certs = Certs::new();
    let server = SmtpServer::start(
        Mode::ImplicitTls,
        Some(("u", "tls-secret-pw")),
        Some(&certs),
    )
    .await;
    let mut spec = email_spec(&server, SmtpSecurity::Tls);
    let smtp = smtp_of(&mut spec);
    smtp.ca_pem = Some(certs.ca_pem.clone());
    smtp.username = Some("u".to_owned());
    smtp.password = Some(Secret::new("tls-secret-pw"));
    put(&store, "tls", &spec).await;
    let stop = start(&store, fast_retry(2, Duration::from_millis(100)));
    store
        .append_events(&[event(EventType::MonitorUp, "web", "recovered")])
        .await
        .expect("event");
    wait_status(&store, "tls", MessageStatus::Succeeded, 1).await;
    stop.cancel();
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls);
    assert_eq!(mails[0].user.as_deref(), Some("u"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_recorded_and_retried() {
    let (store, _dir) = sqlite_store().await;
    let certs = Certs::new();
    let server = SmtpServer::start(
        Mode::Starttls,
        Some(("vedette", "right-password")),
        Some(&certs),
    )
    .await;
    let mut spec = email_spec(&server, SmtpSecurity::Starttls);
    let smtp = smtp_of(&mut spec);
    smtp.tls_verify = false;
    smtp.username = Some("vedette".to_owned());
    smtp.password = Some(Secret::new("wrong-password-123"));
    put(&store, "bad-auth", &spec).await;
    let stop = start(&store, fast_retry(3, Duration::from_millis(100)));
    store
        .append_events(&[event(EventType::MonitorDown, "db", "down")])
        .await
        .expect("event");
    let failed = wait_status(&store, "bad-auth", MessageStatus::Failed, 1).await;
    stop.cancel();
    assert!(server.mails().is_empty());
    assert_eq!(server.state.auth_failures.load(Ordering::SeqCst), 3);
    let log = store
        .list_webhook_attempts(&failed[0].id)
        .await
        .expect("log");
    assert_eq!(log.len(), 3, "three attempts");
    for attempt in &log {
        assert_eq!(attempt.outcome, "failure");
        assert_eq!(attempt.response_status, Some(535));
        let text = format!(
            "{} {:?} {:?}",
            attempt.request, attempt.response, attempt.error
        );
        assert!(text.contains("535"), "{text}");
        assert!(
            !text.contains("wrong-password-123"),
            "password in the log: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_templates_apply_to_email() {
    let (store, _dir) = sqlite_store().await;
    let server = SmtpServer::start(Mode::Plain, None, None).await;
    let mut spec = email_spec(&server, SmtpSecurity::None);
    spec.event_types = vec!["monitor.down".to_owned()];
    spec.email.as_mut().expect("email").subject =
        Some("{{ monitor_name }} is {{ status }} ({{ severity }})".to_owned());
    spec.template = Some(TemplateSpec {
        body: "Custom body for {{ monitor_name }}: {{ message }}\n".to_owned(),
        content_type: "text/plain".to_owned(),
    });
    put(&store, "templated", &spec).await;
    let stop = start(&store, fast_retry(2, Duration::from_millis(100)));
    store
        .append_events(&[
            event(EventType::MonitorUp, "api", "back"),
            event(EventType::MonitorDown, "api", "connection refused"),
            event(EventType::IncidentOpened, "api", "incident"),
        ])
        .await
        .expect("events");
    wait_status(&store, "templated", MessageStatus::Succeeded, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    let mails = server.mails();
    assert_eq!(mails.len(), 1, "only monitor.down passes the filter");
    assert_eq!(
        mails[0].header("Subject").as_deref(),
        Some("api is firing (critical)")
    );
    assert_eq!(
        mails[0].body().trim_end(),
        "Custom body for api: connection refused"
    );
    assert!(
        mails[0]
            .header("Content-Type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        mails[0].header("Content-Type")
    );
}

#[test]
fn email_specs_are_validated_and_redacted() {
    let catalog = Catalog::builtin().expect("catalog");
    let engine = Engine::default();
    let mut spec: EndpointSpec = serde_json::from_value(serde_json::json!({
        "url": "https://example.com/hook",
        "email": {
            "smtp": {"host": "", "username": "u", "password": "pw-secret-1", "security": "none"},
            "from": "not an address",
            "to": ["ok@example.com", "bad"],
            "subject": "{{ broken"
        },
        "auth": {"type": "bearer", "token": "t0ken"},
        "secrets": [{"secret": vedette_webhooks::signing::generate_secret()}]
    }))
    .expect("parses");
    let errors = spec.validate(&catalog, &engine).expect_err("invalid");
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["email"],
        "url and email are exclusive: {errors:?}"
    );
    spec.url = None;
    let errors = spec.validate(&catalog, &engine).expect_err("invalid");
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "email.smtp.host",
        "email.smtp.security",
        "email.from",
        "email.to[1]",
        "email.subject",
        "auth",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(!fields.contains(&"email.to[0]"));
    // The password is a secret: redacted for the API, restored on an echoed update, not in Debug.
    let shown = spec.redacted(&catalog);
    let text = serde_json::to_string(&shown).expect("json");
    assert!(
        !text.contains("pw-secret-1") && text.contains("********"),
        "{text}"
    );
    assert!(!format!("{spec:?}").contains("pw-secret-1"));
    assert!(
        spec.secret_values(&catalog)
            .contains(&"pw-secret-1".to_owned())
    );
    let mut echoed = shown.clone();
    echoed.restore_redacted(&spec);
    assert_eq!(
        echoed
            .email
            .as_ref()
            .and_then(|e| e.smtp.password.as_ref())
            .map(Secret::expose),
        Some("pw-secret-1")
    );
    // Neither url, integration nor email.
    let mut none = EndpointSpec::new("https://example.com");
    none.url = None;
    let errors = none.validate(&catalog, &engine).expect_err("invalid");
    assert_eq!(errors[0].field, "url");
}
