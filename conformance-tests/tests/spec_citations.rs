//! Every SPEC section the workspace cites exists in SPEC.md, so that a renumbered or removed
//! section cannot leave citations pointing nowhere.
//!
//! A citation is a section sign followed by a number, in any `.rs` or `.md` file of the
//! workspace: `SPEC §4`, a bare `(§3)`, a list (`§4, §5`, `§3/§5`) or a range (`§2–§5`,
//! `§1.1–1.2`, whose ends are checked). One that follows `RFC <number>` (`RFC 7617 §2.1`,
//! `RFC 9110 §11.4, §11.2`) cites that RFC and is left alone.
//!
//! SPEC.md's sections are its `## N.` headings, and `N.M` for the numbered list items under
//! heading `N`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The section sign, spelled out where a test here cites a section that does not exist.
const SIGN: char = '\u{a7}';

/// The sections SPEC.md has: `"1"`, `"1.1"`, …
fn sections(spec: &str) -> BTreeSet<String> {
    let mut sections = BTreeSet::new();
    let mut current = None;
    for line in spec.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            current = leading_number(heading).filter(|_| heading.contains(". "));
            sections.extend(current.clone());
        } else if let Some(section) = &current {
            if let Some(item) = leading_number(line).filter(|_| line.contains(". ")) {
                sections.insert(format!("{section}.{item}"));
            }
        }
    }
    sections
}

/// The digits `text` starts with, if it starts with some followed by `.`.
fn leading_number(text: &str) -> Option<String> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty() && text[digits.len()..].starts_with('.')).then_some(digits)
}

/// The section number at the start of `text` (`1.8` of `1.8.`), and its length in bytes.
fn section_at(text: &str) -> Option<(&str, usize)> {
    let length = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit() && *c != '.')
        .map_or(text.len(), |(i, _)| i);
    let number = text[..length].trim_end_matches('.');
    number
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some((number, number.len()))
}

/// `text` without trailing whitespace and comment markers (`//`, `//!`, `///`, `*`), so that a
/// citation wrapped onto the next comment line still sees what precedes it.
fn trim_back(text: &str) -> &str {
    text.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '/' | '!' | '*'))
}

/// Whether the section sign ending `before` continues an RFC citation: walking back over a list
/// or range of sections (`<sign>11.4, `), it meets `RFC <number>`.
fn cites_an_rfc(mut before: &str) -> bool {
    loop {
        before = trim_back(before);
        let Some(rest) = [",", "–", "-", "and", "or", "&"]
            .iter()
            .find_map(|separator| before.strip_suffix(separator))
        else {
            break;
        };
        let rest = trim_back(rest);
        let number_start = rest
            .rfind(|c: char| !c.is_ascii_digit() && c != '.')
            .map_or(0, |i| {
                i + rest[i..].chars().next().map_or(1, char::len_utf8)
            });
        let Some(previous) = rest[..number_start].strip_suffix(SIGN) else {
            break;
        };
        before = previous;
    }
    let digits = before.trim_end_matches(|c: char| c.is_ascii_digit());
    digits.len() < before.len() && digits.trim_end().ends_with("RFC")
}

/// The SPEC sections `text` cites, with the 1-based line of each.
fn citations(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(SIGN) {
        if cites_an_rfc(&text[..at]) {
            continue;
        }
        let after = &text[at + SIGN.len_utf8()..];
        let Some((number, length)) = section_at(after) else {
            continue;
        };
        let line = text[..at].matches('\n').count() + 1;
        found.push((line, number.to_owned()));
        // The end of a range written without a second sign: `1.1–1.2`.
        if let Some(end) = after[length..]
            .strip_prefix('–')
            .or_else(|| after[length..].strip_prefix('-'))
        {
            if let Some((end, _)) = section_at(end) {
                found.push((line, end.to_owned()));
            }
        }
    }
    found
}

/// Every `.rs` and `.md` file under `dir`, leaving out build output and hidden directories.
fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if name != "target" && !name.starts_with('.') {
                sources(&path, into);
            }
        } else if kind.is_file() && (name.ends_with(".rs") || name.ends_with(".md")) {
            into.push(path);
        }
    }
}

#[test]
fn every_spec_section_cited_in_the_workspace_exists() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = fs::read_to_string(crate_dir.join("SPEC.md")).expect("SPEC.md beside the crate");
    let sections = sections(&spec);
    assert!(
        sections.contains("8") && sections.contains("1.9"),
        "SPEC.md's sections were not read: {sections:?}"
    );
    let Some(root) = crate_dir.parent().filter(|root| {
        fs::read_to_string(root.join("Cargo.toml"))
            .is_ok_and(|manifest| manifest.contains("\"conformance-tests\""))
    }) else {
        // Built from a published package: there is no workspace around it to check.
        eprintln!("no endpoint-auth workspace around {}", crate_dir.display());
        return;
    };
    let mut files = Vec::new();
    sources(root, &mut files);
    files.sort();
    let (mut checked, mut dangling) = (0, Vec::new());
    for file in &files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for (line, section) in citations(&text) {
            checked += 1;
            if !sections.contains(&section) {
                let file = file.strip_prefix(root).unwrap_or(file).display();
                dangling.push(format!("{file}:{line}: {SIGN}{section}"));
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "citations of sections SPEC.md does not have (it has {sections:?}; a {SIGN} right after \
         `RFC <number>` is read as the RFC's):\n{}",
        dangling.join("\n")
    );
    assert!(
        checked > 100,
        "only {checked} citations found: is the scan still reading the workspace?"
    );
}

#[test]
fn spec_sections_are_headings_and_their_numbered_items() {
    let spec = "# Title\n## 1. One\n1. a\n2. b\n   3. not at the start\n## 2. Two\n- x\n1) no\n";
    let expected: BTreeSet<String> = ["1", "1.1", "1.2", "2"].map(String::from).into();
    assert_eq!(sections(spec), expected);
}

#[test]
fn citations_are_read_and_rfc_sections_left_alone() {
    let text = format!(
        "SPEC {SIGN}4, {SIGN}5 and ({SIGN}3/{SIGN}9).\n\
         {SIGN}1.1–1.2 RFC 7617 {SIGN}2, {SIGN}2.1 and RFC 9110\n\
         /// {SIGN}5.6.4 but SPEC {SIGN}1.8."
    );
    let expected = [
        (1, "4"),
        (1, "5"),
        (1, "3"),
        (1, "9"),
        (2, "1.1"),
        (2, "1.2"),
        (3, "1.8"),
    ]
    .map(|(line, section)| (line, section.to_owned()));
    assert_eq!(citations(&text), expected);
}
