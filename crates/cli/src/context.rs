//! Which server and token a command uses: named contexts in a config file, overridden by
//! `VEDETTE_URL` / `VEDETTE_TOKEN` (and `VEDETTE_CONTEXT`), overridden in turn by `--server`,
//! `--token` and `--context`. A server address without a scheme (`127.0.0.1:8080`) means
//! `http://`, and a note on stderr says so.
//!
//! The file is `$VEDETTE_CONFIG_FILE`, else `$XDG_CONFIG_HOME/vedette/config.yaml`, else
//! `~/.config/vedette/config.yaml`; it holds tokens, so it is written with mode 0600:
//!
//! ```yaml
//! current-context: prod
//! contexts:
//!   prod: {url: https://vedette.example.com, token: vdt_...}
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::UsageError;
use crate::output::{Cell, Format, Paint, Table, print_data};

/// Where the server is and how to authenticate; global options of every API command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Connection {
    /// Server URL, e.g. https://vedette.example.com (overrides the context's). Formerly `--url`,
    /// which now names a webhook's own URL in `webhook create`.
    #[arg(long, global = true, env = "VEDETTE_URL", value_name = "URL")]
    pub server: Option<String>,
    /// API token (overrides the context's); for `serve`, the admin token created at first
    /// start, like --bootstrap-token.
    #[arg(long, global = true, env = "VEDETTE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Context of the config file to use instead of the current one.
    #[arg(long, global = true, env = "VEDETTE_CONTEXT")]
    pub context: Option<String>,
}

/// The config file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The context used when none is named.
    #[serde(
        rename = "current-context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub current_context: Option<String>,
    /// Contexts by name.
    #[serde(default)]
    pub contexts: BTreeMap<String, Context>,
}

/// One server and the token used with it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Base URL.
    pub url: String,
    /// API token.
    pub token: String,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("url", &self.url)
            .field("token", &"***")
            .finish()
    }
}

/// What a command connects to, after precedence is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Base URL.
    pub url: String,
    /// Token.
    pub token: String,
}

/// The config file path from the environment (`VEDETTE_CONFIG_FILE`, `XDG_CONFIG_HOME`, `HOME`).
pub fn config_path_from(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(file) = set("VEDETTE_CONFIG_FILE") {
        return Some(PathBuf::from(file));
    }
    if let Some(dir) = set("XDG_CONFIG_HOME") {
        return Some(Path::new(&dir).join("vedette").join("config.yaml"));
    }
    set("HOME").map(|home| Path::new(&home).join(".config/vedette/config.yaml"))
}

/// The config file path of this process.
pub fn config_path() -> Result<PathBuf, UsageError> {
    config_path_from(|name| std::env::var(name).ok()).ok_or_else(|| {
        UsageError("cannot locate the config file: set VEDETTE_CONFIG_FILE or HOME".to_owned())
    })
}

impl Config {
    /// Reads the file; a missing file is an empty config.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: {} holds tokens but other users can read it; run chmod 600 on it",
                path.display()
            );
        }
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        vedette_model::document::decode_settings(&text, path).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            UsageError(format!(
                "invalid config file (contexts of `vedette context`):\n{}",
                lines.join("\n")
            ))
            .into()
        })
    }

    /// Writes the file atomically with mode 0600 (its directory is created with mode 0700).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_saphyr::to_string(self)?;
        let name = path.file_name().map_or_else(
            || "config.yaml".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| -> std::io::Result<()> {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temp, path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        Ok(())
    }

    /// Applies precedence: each of URL and token comes from its flag or environment variable when
    /// given, else from the named context (`--context`, else `current-context`).
    pub fn resolve(&self, connection: &Connection) -> Result<Target, UsageError> {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let (url, token) = (nonempty(&connection.server), nonempty(&connection.token));
        let context = match (&connection.context, &self.current_context) {
            (Some(name), _) => Some(self.contexts.get(name).ok_or_else(|| {
                UsageError(format!(
                    "no context named {name:?} (see `vedette context list`)"
                ))
            })?),
            (None, Some(name)) if url.is_none() || token.is_none() => {
                Some(self.contexts.get(name).ok_or_else(|| {
                    UsageError(format!(
                        "the current context {name:?} is not in the config file; \
                         run `vedette context use NAME` or `vedette login`"
                    ))
                })?)
            }
            _ => None,
        };
        let url = url
            .or_else(|| context.map(|c| c.url.clone()))
            .ok_or_else(|| {
                UsageError(
                    "no server configured: run `vedette login URL --token TOKEN`, \
                 or set VEDETTE_URL and VEDETTE_TOKEN, or pass --server and --token"
                        .to_owned(),
                )
            })?;
        let token = token
            .or_else(|| context.map(|c| c.token.clone()))
            .ok_or_else(|| {
                UsageError(format!(
                    "no token for {url}: pass --token, set VEDETTE_TOKEN, or run `vedette login`"
                ))
            })?;
        Ok(Target { url, token })
    }
}

/// The client of the server this invocation targets, acting as `vedette-cli` (the manager
/// `apply` labels resources with).
pub fn client(connection: &Connection) -> anyhow::Result<vedette_client::Client> {
    let config = Config::load(&config_path()?)?;
    let target = config.resolve(connection)?;
    vedette_client::Client::new(&with_scheme(&target.url), &target.token)
        .map(|client| client.acting_as(crate::apply::OWNER))
        .map_err(|e| UsageError(e.to_string()).into())
}

/// `url` with `http://` in front when it has no scheme (`127.0.0.1:8080`, `localhost:8080`),
/// with a note on stderr saying so.
pub fn with_scheme(url: &str) -> String {
    let url = url.trim();
    if url.contains("://") {
        return url.to_owned();
    }
    let full = format!("http://{url}");
    eprintln!("note: {url:?} has no scheme; using {full}");
    full
}

/// A context name derived from a URL: its host and port.
pub fn default_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split('/').next().unwrap_or(rest);
    let host = host.rsplit('@').next().unwrap_or(host);
    if host.is_empty() {
        "default".to_owned()
    } else {
        host.to_owned()
    }
}

/// Options of `vedette login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Server URL.
    #[arg(value_name = "URL")]
    server: String,
    /// Name of the context to save (default: the URL's host and port).
    #[arg(long)]
    name: Option<String>,
}

/// Checks the token against the server, saves the context and makes it current.
pub async fn login(args: &LoginArgs, connection: &Connection) -> anyhow::Result<ExitCode> {
    let token = connection
        .token
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| UsageError("login needs --token TOKEN (or VEDETTE_TOKEN)".to_owned()))?;
    let url = with_scheme(args.server.trim_end_matches('/'));
    let client =
        vedette_client::Client::new(&url, &token).map_err(|e| UsageError(e.to_string()))?;
    let status = client
        .status()
        .await
        .with_context(|| format!("cannot log in to {url}"))?;
    let path = config_path()?;
    let mut config = Config::load(&path)?;
    let name = args.name.clone().unwrap_or_else(|| default_name(&url));
    config.contexts.insert(
        name.clone(),
        Context {
            url: url.clone(),
            token,
        },
    );
    config.current_context = Some(name.clone());
    config.save(&path)?;
    println!(
        "Logged in to {url} ({} monitors); context {name:?} saved in {} and now current",
        status.monitors.total,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `vedette context ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ContextCommand {
    /// List the saved contexts (tokens are never shown).
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// Make a context the current one.
    Use {
        /// Context name.
        name: String,
    },
}

#[derive(Serialize)]
struct ContextRow<'a> {
    name: &'a str,
    url: &'a str,
    current: bool,
}

/// Runs a `vedette context` command.
pub fn run(command: &ContextCommand) -> anyhow::Result<ExitCode> {
    let path = config_path()?;
    let mut config = Config::load(&path)?;
    match command {
        ContextCommand::List { output } => {
            let rows: Vec<ContextRow> = config
                .contexts
                .iter()
                .map(|(name, c)| ContextRow {
                    name,
                    url: &c.url,
                    current: config.current_context.as_deref() == Some(name),
                })
                .collect();
            if !print_data(*output, &rows)? {
                let mut table = Table::new(&["current", "name", "url"]);
                for row in &rows {
                    table.row(vec![
                        Cell::painted(if row.current { "*" } else { "" }, Some(Paint::Green)),
                        row.name.into(),
                        row.url.into(),
                    ]);
                }
                table.print();
            }
        }
        ContextCommand::Use { name } => {
            if !config.contexts.contains_key(name) {
                let known: Vec<&str> = config.contexts.keys().map(String::as_str).collect();
                return Err(UsageError(format!(
                    "no context named {name:?}; known: {}",
                    if known.is_empty() {
                        "none (run `vedette login`)".to_owned()
                    } else {
                        known.join(", ")
                    }
                ))
                .into());
            }
            config.current_context = Some(name.clone());
            config.save(&path)?;
            println!("Switched to context {name:?}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(url: &str, token: &str) -> Context {
        Context {
            url: url.to_owned(),
            token: token.to_owned(),
        }
    }

    fn config() -> Config {
        Config {
            current_context: Some("prod".to_owned()),
            contexts: BTreeMap::from([
                ("prod".to_owned(), ctx("https://prod.example", "tok-prod")),
                ("dev".to_owned(), ctx("http://dev.example", "tok-dev")),
            ]),
        }
    }

    fn conn(url: Option<&str>, token: Option<&str>, context: Option<&str>) -> Connection {
        Connection {
            server: url.map(str::to_owned),
            token: token.map(str::to_owned),
            context: context.map(str::to_owned),
        }
    }

    #[test]
    fn config_path_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            config_path_from(env(&[
                ("VEDETTE_CONFIG_FILE", "/tmp/v.yaml"),
                ("XDG_CONFIG_HOME", "/x"),
                ("HOME", "/h")
            ])),
            Some(PathBuf::from("/tmp/v.yaml"))
        );
        assert_eq!(
            config_path_from(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/vedette/config.yaml"))
        );
        assert_eq!(
            config_path_from(env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/vedette/config.yaml"))
        );
        assert_eq!(config_path_from(env(&[])), None);
    }

    #[test]
    fn flags_and_env_override_the_context_field_by_field() {
        let c = config();
        let t = c.resolve(&conn(None, None, None)).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_str()),
            ("https://prod.example", "tok-prod")
        );
        let t = c.resolve(&conn(None, None, Some("dev"))).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_str()),
            ("http://dev.example", "tok-dev")
        );
        let t = c.resolve(&conn(Some("http://other"), None, None)).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_str()),
            ("http://other", "tok-prod")
        );
        let t = c
            .resolve(&conn(None, Some("tok-flag"), Some("dev")))
            .unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_str()),
            ("http://dev.example", "tok-flag")
        );
        let t = Config::default()
            .resolve(&conn(Some("http://x"), Some("t"), None))
            .unwrap();
        assert_eq!((t.url.as_str(), t.token.as_str()), ("http://x", "t"));
    }

    #[test]
    fn missing_pieces_are_usage_errors() {
        let e = Config::default()
            .resolve(&conn(None, None, None))
            .unwrap_err();
        assert!(e.0.contains("vedette login"), "{}", e.0);
        let e = Config::default()
            .resolve(&conn(Some("http://x"), None, None))
            .unwrap_err();
        assert!(e.0.contains("no token for http://x"), "{}", e.0);
        let e = config()
            .resolve(&conn(None, None, Some("nope")))
            .unwrap_err();
        assert!(e.0.contains("no context named \"nope\""), "{}", e.0);
        let dangling = Config {
            current_context: Some("gone".to_owned()),
            contexts: BTreeMap::new(),
        };
        assert!(dangling.resolve(&conn(None, None, None)).is_err());
        // Flags alone do not need the dangling current context.
        assert!(
            dangling
                .resolve(&conn(Some("http://x"), Some("t"), None))
                .is_ok()
        );
    }

    /// The error `Config::load` gives for a file holding `text`, with the file's path as `F`.
    fn load_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let error = Config::load(&path).expect_err("a broken file");
        error.to_string().replace(&path.display().to_string(), "F")
    }

    #[test]
    fn broken_files_name_file_line_and_field() {
        for (text, want) in [
            (
                "current-context: prod\ncontexts:\n  prod:\n    url: https://v.example.com\n",
                "F:3: contexts.prod.token: required",
            ),
            (
                "contexts:\n  prod:\n    url: 8080\n    token: vdt_secret_value\n",
                "F:3: contexts.prod.url: expected a string, got the number 8080",
            ),
            (
                "contexts:\n  prod:\n    url: https://v.example.com\n    token: [vdt_secret_value]\n",
                "F:4: contexts.prod.token: invalid value (not shown): expected a string",
            ),
            (
                "contexts:\n  prod: {url: https://v.example.com, token: t, insecure: true}\n",
                "F:2: contexts.prod.insecure: unknown field, expected url or token",
            ),
            (
                "contexts:\n  - prod\n",
                "F:1: contexts: expected a mapping, got a list",
            ),
            (
                "current-context: [prod\n",
                "F:1: invalid YAML: unclosed bracket '['",
            ),
            (
                "curent-context: prod\n",
                "F:1: curent-context: unknown field, expected current-context or contexts",
            ),
        ] {
            let got = load_error(text);
            assert_eq!(
                got,
                format!("invalid config file (contexts of `vedette context`):\n{want}")
            );
            assert!(!got.contains("vdt_secret_value"), "{got}");
        }
    }

    #[test]
    fn saved_files_round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/config.yaml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        config().save(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(Config::load(&path).unwrap(), config());
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("current-context: prod"), "{text}");
        // Overwriting keeps the mode and leaves no temporary file behind.
        Config::default().save(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn debug_output_hides_tokens() {
        assert!(!format!("{:?}", config()).contains("tok-prod"));
    }

    #[test]
    fn context_names_default_to_host_and_port() {
        assert_eq!(
            default_name("https://vedette.example.com/"),
            "vedette.example.com"
        );
        assert_eq!(default_name("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(default_name("http://u@h:1/p"), "h:1");
    }
}
