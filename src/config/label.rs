//! How problems name a config entry.

use serde_json::{Map, Value};

/// `entry 2 (host "*.example.com", path "/v2/*")`: how problems name an entry (its index in
/// `urls`, from 0, as `explain` counts), by what it matches.
pub fn entry_label(index: usize, obj: &Map<String, Value>) -> String {
    let parts: Vec<String> = ["scheme", "host", "path"]
        .iter()
        .filter_map(|f| Some(format!("{f} {:?}", obj.get(*f)?.as_str()?)))
        .collect();
    match parts.is_empty() {
        true => format!("entry {index} (every URL)"),
        false => format!("entry {index} ({})", parts.join(", ")),
    }
}
