//! The man page generator: one page per command from the clap definitions, in man(7) roff.
//!
//! clap_mangen's own pages fill everything, so groff hyphenated and reflowed the JSON field lists
//! (`zom- bie_count`) and the example columns, named the binary `toolkit-zombies`, left value names
//! out of the synopsis and global options out of subcommand pages. Here: no hyphenation anywhere
//! (`.nh`), examples and indented field lists in no-fill blocks, `SYNOPSIS toolkit zombies [OPTIONS]`
//! with every option and its value name, a GLOBAL OPTIONS section in every page, and input lines kept
//! short so that `mandoc -Tlint` has nothing to say.

use clap::{Arg, Command};

/// The pages' date: fixed so that generation is reproducible (change it with the pages' content).
const DATE: &str = "2026-12-01";

/// Every page: (file name, roff).
pub fn pages(root: &Command) -> Vec<(String, String)> {
    let mut root = root.clone();
    root.build();
    let globals: Vec<Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set() && !hidden(a))
        .cloned()
        .collect();
    let mut out = Vec::new();
    collect(&root, &[], &globals, &mut out);
    out
}

fn hidden(a: &Arg) -> bool {
    a.is_hide_set() || matches!(a.get_id().as_str(), "help" | "version")
}

fn collect(cmd: &Command, parents: &[&str], globals: &[Arg], out: &mut Vec<(String, String)>) {
    let mut path: Vec<&str> = parents.to_vec();
    path.push(cmd.get_name());
    out.push((format!("{}.1", path.join("-")), page(cmd, &path, globals)));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub, &path, globals, out);
    }
}

/// Escapes text for a roff input line (not a macro argument).
fn esc(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// A paragraph of filled text as input lines of at most 78 bytes (the formatter refills them).
fn filled(text: &str, out: &mut String) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        let w = esc(word);
        if !line.is_empty() && line.len() + 1 + w.len() > 78 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&w);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Lines shown exactly as written (examples, field lists), in a no-fill block.
fn verbatim(lines: &[&str], out: &mut String) {
    out.push_str(".nf\n");
    for l in lines {
        out.push_str(&esc(l.trim_end()));
        out.push('\n');
    }
    out.push_str(".fi\n");
}

fn value_names(a: &Arg) -> String {
    a.get_value_names()
        .map(|v| {
            v.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| a.get_id().as_str().to_uppercase())
}

fn takes_value(a: &Arg) -> bool {
    a.get_num_args().is_some_and(|n| n.takes_values())
}

/// `\fB\-w\fR, \fB\-\-warning\fR \fIRANGE\fR`
fn option_tag(a: &Arg) -> String {
    let mut names = Vec::new();
    if let Some(s) = a.get_short() {
        names.push(format!("\\fB\\-{}\\fR", esc(&s.to_string())));
    }
    if let Some(l) = a.get_long() {
        names.push(format!("\\fB\\-\\-{}\\fR", esc(l)));
    }
    let mut tag = names.join(", ");
    if a.is_positional() {
        tag = format!("\\fI{}\\fR", esc(&value_names(a)));
    } else if takes_value(a) {
        tag.push_str(&format!(" \\fI{}\\fR", esc(&value_names(a))));
    }
    tag
}

/// `[\fB\-\-min\-age\fR \fIDURATION\fR]` for the synopsis.
fn synopsis_item(a: &Arg) -> String {
    let name = if a.is_positional() {
        format!("\\fI{}\\fR", esc(&value_names(a)))
    } else {
        let flag = match (a.get_long(), a.get_short()) {
            (Some(l), _) => format!("\\fB\\-\\-{}\\fR", esc(l)),
            (None, Some(s)) => format!("\\fB\\-{}\\fR", esc(&s.to_string())),
            (None, None) => esc(a.get_id().as_str()),
        };
        if takes_value(a) {
            format!("{flag} \\fI{}\\fR", esc(&value_names(a)))
        } else {
            flag
        }
    };
    if a.is_required_set() {
        name
    } else {
        format!("[{name}]")
    }
}

fn options(args: &[&Arg], out: &mut String) {
    for a in args {
        out.push_str(".TP\n");
        out.push_str(&option_tag(a));
        out.push('\n');
        let help = a
            .get_long_help()
            .or(a.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let mut text = help;
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() && takes_value(a) {
            text.push_str(&format!(" [default: {}]", defaults.join(", ")));
        }
        if let Some(env) = a.get_env() {
            text.push_str(&format!(" [env: {}]", env.to_string_lossy()));
        }
        filled(&text, out);
        let values: Vec<_> = a
            .get_possible_values()
            .into_iter()
            .filter(|v| !v.is_hide_set())
            .collect();
        if takes_value(a) && !values.is_empty() && values.iter().any(|v| v.get_help().is_some()) {
            out.push_str(".RS\n");
            for v in values {
                out.push_str(".TP\n");
                out.push_str(&format!("\\fB{}\\fR\n", esc(v.get_name())));
                filled(
                    &v.get_help().map(|h| h.to_string()).unwrap_or_default(),
                    out,
                );
            }
            out.push_str(".RE\n");
        } else if takes_value(a) && !values.is_empty() {
            let names: Vec<&str> = values.iter().map(|v| v.get_name()).collect();
            out.push_str(".br\n");
            filled(&format!("Possible values: {}.", names.join(", ")), out);
        }
    }
}

/// The text after the option list (`after_long_help`, else `after_help`): each paragraph that
/// starts with a heading line ("Examples:", "JSON fields (--format json):") becomes a section whose
/// indented lines are shown verbatim; other paragraphs are filled.
fn extra(text: &str, out: &mut String) {
    for para in text.split("\n\n") {
        let lines: Vec<&str> = para.lines().collect();
        let Some(first) = lines.first() else { continue };
        let heading = first
            .trim_end()
            .strip_suffix(':')
            .filter(|h| !h.contains(": "));
        match heading {
            Some(h) => {
                out.push_str(&format!(".SH {}\n", section_name(h)));
                let body: Vec<&str> = lines[1..].iter().map(|l| dedent(l, 2)).collect();
                verbatim(&body, out);
            }
            None => {
                // "Exit status: 0 OK, ..." or "D state: the kernel ...": a filled paragraph, with
                // a continuation kept whole when it is indented like a field list.
                out.push_str(".PP\n");
                if lines[1..].iter().all(|l| l.starts_with("  ")) && lines.len() > 1 {
                    filled(&lines.join(" "), out);
                } else {
                    filled(para, out);
                }
            }
        }
    }
}

fn dedent(l: &str, n: usize) -> &str {
    let spaces = l.len() - l.trim_start_matches(' ').len();
    &l[spaces.min(n)..]
}

/// "JSON fields (--format json)" -> "JSON FIELDS"; "Examples" -> "EXAMPLES".
fn section_name(h: &str) -> String {
    let h = h.split(" (").next().unwrap_or(h);
    format!("\"{}\"", h.to_uppercase().replace('"', ""))
}

fn page(cmd: &Command, path: &[&str], globals: &[Arg]) -> String {
    let title = path.join("-").to_uppercase();
    let version = cmd
        .get_version()
        .or(Some(env!("CARGO_PKG_VERSION")))
        .unwrap_or("");
    let mut out = String::new();
    out.push_str(&format!(
        ".TH {} 1 {DATE} \"toolkit {version}\" \"User Commands\"\n",
        esc(&title)
    ));
    out.push_str(".nh\n.ad l\n");
    out.push_str(".SH NAME\n");
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let about = about.trim_end_matches('.');
    filled(&format!("{} - {about}", path.join("-")), &mut out);

    let local: Vec<&Arg> = cmd
        .get_arguments()
        // Global options have their own section, in every page.
        .filter(|a| !hidden(a) && !a.is_global_set())
        .collect();
    out.push_str(".SH SYNOPSIS\n");
    let mut syn = vec![format!("\\fB{}\\fR", esc(&path.join(" ")))];
    if !globals.is_empty() {
        syn.push("[\\fIGLOBAL OPTIONS\\fR]".into());
    }
    syn.extend(
        local
            .iter()
            .filter(|a| !a.is_positional())
            .map(|a| synopsis_item(a)),
    );
    syn.extend(
        local
            .iter()
            .filter(|a| a.is_positional())
            .map(|a| synopsis_item(a)),
    );
    if cmd.has_subcommands() {
        syn.push("\\fICOMMAND\\fR".into());
    }
    // One input line per item, so that none is too long; the formatter fills them.
    for s in syn {
        out.push_str(&s);
        out.push('\n');
    }

    out.push_str(".SH DESCRIPTION\n");
    let long = cmd
        .get_long_about()
        .or(cmd.get_about())
        .map(|a| a.to_string())
        .unwrap_or_default();
    let mut json = Vec::new();
    for (i, para) in long.split("\n\n").enumerate() {
        if para.starts_with("JSON fields") {
            json.push(para.to_string());
            continue;
        }
        if i > 0 {
            out.push_str(".PP\n");
        }
        filled(para, &mut out);
    }

    if !local.is_empty() {
        out.push_str(".SH OPTIONS\n");
        options(&local, &mut out);
    }
    if cmd.has_subcommands() {
        out.push_str(".SH COMMANDS\n");
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            out.push_str(".TP\n");
            out.push_str(&format!(
                "\\fB{}\\fR\n",
                esc(&format!("{} {}", path.join(" "), sub.get_name()))
            ));
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            filled(&about, &mut out);
            out.push_str(".br\n");
            filled(
                &format!("See {}-{}(1).", path.join("-"), sub.get_name()),
                &mut out,
            );
        }
    }
    if !globals.is_empty() {
        out.push_str(".SH \"GLOBAL OPTIONS\"\n");
        filled(
            "These go before or after the command name, in every command.",
            &mut out,
        );
        let g: Vec<&Arg> = globals.iter().collect();
        options(&g, &mut out);
    }
    for j in &json {
        // "JSON fields (sizes in bytes...): status, headline, ...": filled, but never hyphenated.
        out.push_str(".SH \"JSON FIELDS\"\n");
        filled(j, &mut out);
    }
    let after = cmd
        .get_after_long_help()
        .or(cmd.get_after_help())
        .map(|a| a.to_string())
        .unwrap_or_default();
    extra(&after, &mut out);
    if path.len() > 1 {
        out.push_str(".SH \"SEE ALSO\"\n");
        let mut see: Vec<String> = vec![format!("{}(1)", path[..path.len() - 1].join("-"))];
        if path.len() > 2 {
            see.insert(0, "toolkit(1)".into());
        }
        filled(&see.join(", "), &mut out);
    }
    out
}
