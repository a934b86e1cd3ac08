//! The AWS shared config and credentials files: INI with `[section]` headers, `key = value`
//! lines, `#`/`;` comments, and indented lines holding nested settings (`s3 =` blocks), which
//! no credential needs and are skipped.

use std::collections::BTreeMap;

/// Section name -> key -> value, keys lower-cased.
pub type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Parses a file's text. Lines that are not understood are skipped, as the AWS CLI does with
/// settings it does not know; a broken line can only hide a key, which is then reported missing.
pub fn parse(text: &str) -> Sections {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        // Indented lines continue the previous key (nested settings).
        if raw.starts_with([' ', '\t']) {
            continue;
        }
        let (Some(section), Some((key, value))) = (&current, line.split_once('=')) else {
            continue;
        };
        let value = strip_comment(value.trim());
        if let Some(map) = sections.get_mut(section) {
            map.insert(key.trim().to_ascii_lowercase(), value.to_string());
        }
    }
    sections
}

/// ` # comment` after a value is a comment; `#` inside a value (no space before) is not.
fn strip_comment(value: &str) -> &str {
    let cut = [" #", "\t#", " ;", "\t;"]
        .iter()
        .filter_map(|m| value.find(m))
        .min();
    match cut {
        Some(i) => value[..i].trim_end(),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_comments_and_nested_blocks() {
        let text = "# top\n[default]\naws_access_key_id = AKIA1 ; note\nAWS_Secret_Access_Key=se#cret\n\n[profile  dev]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 20\nrole_arn = arn:aws:iam::1:role/r\nnot a setting\n[broken\nx = y\n";
        let s = parse(text);
        assert_eq!(s["default"]["aws_access_key_id"], "AKIA1");
        assert_eq!(s["default"]["aws_secret_access_key"], "se#cret");
        let dev = &s["profile dev"];
        assert_eq!(dev["region"], "eu-west-1");
        assert_eq!(dev["s3"], "");
        assert!(!dev.contains_key("max_concurrent_requests"));
        assert_eq!(dev["role_arn"], "arn:aws:iam::1:role/r");
        // A line that is not a header keeps the previous section.
        assert_eq!(dev["x"], "y");
    }
}
