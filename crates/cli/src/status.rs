//! `vedette status`: monitors counted by state, and the open incidents.

use std::process::ExitCode;

use vedette_client::Status;
use vedette_model::MonitorState;

use crate::context::{self, Connection};
use crate::get::incidents_table;
use crate::output::{Cell, Format, Paint, Style, Table, print_data};

/// Options of `vedette status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    output: Format,
}

/// The text form.
pub fn render(status: &Status, style: &Style) -> String {
    let mut table = Table::new(&["state", "monitors"]);
    for state in MonitorState::ALL {
        table.row(vec![
            Cell::painted(state.as_str(), Paint::state(state)),
            status.monitors.get(state).to_string().into(),
        ]);
    }
    table.row(vec![
        "total".into(),
        status.monitors.total.to_string().into(),
    ]);
    let mut out = table.render(style);
    out.push('\n');
    if status.open_incidents.is_empty() {
        out.push_str("No open incidents.\n");
    } else {
        out.push_str(&format!(
            "Open incidents ({}):\n",
            status.open_incidents.len()
        ));
        out.push_str(&incidents_table(&status.open_incidents).render(style));
    }
    out
}

/// Runs `vedette status`.
pub async fn run(args: &Args, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let status = client.status().await?;
    if !print_data(args.output, &status)? {
        print!("{}", render(&status, &Style::stdout()));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_state() {
        let status: Status = serde_json::from_value(serde_json::json!({
            "monitors": {"total": 3, "up": 2, "down": 1},
            "open_incidents": []
        }))
        .unwrap();
        assert_eq!(
            render(&status, &Style::plain()),
            "STATE        MONITORS\npending      0\nup           2\ndegraded     0\ndown         1\n\
             paused       0\nmaintenance  0\ntotal        3\n\nNo open incidents.\n"
        );
    }
}
