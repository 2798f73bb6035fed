//! Reading and setting sendmail's `DefaultUser`, by editing exactly that setting: in the mc, the value
//! of `define(`confDEF_USER_ID', ...)` with its m4 quoting kept; in the cf, the `O DefaultUser=` line.
//! Everything else in the file is left byte for byte as it was.

/// Splits into lines keeping their terminators, so that joining gives back the exact input.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|&b| b == b'\n').collect()
}

fn trim_start(l: &[u8]) -> &[u8] {
    let n = l.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    &l[n..]
}

/// The value of an active `O DefaultUser=...` line (spaces around `=` allowed, as sendmail allows).
fn option_value(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b"O ")?;
    let text = String::from_utf8_lossy(rest);
    let (key, value) = match text.split_once('=') {
        Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
        None => (text.trim().to_string(), String::new()),
    };
    key.eq_ignore_ascii_case("DefaultUser").then_some(value)
}

/// The DefaultUser a cf sets: the last `O DefaultUser=` line, or sendmail's old one-letter options
/// `Ou` (user) and `Og` (group); the last setting wins, as in sendmail. `#O` lines are comments.
pub fn cf_get(text: &[u8]) -> Option<String> {
    let mut user: Option<String> = None;
    let mut group: Option<String> = None;
    for line in lines(text) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        if let Some(v) = option_value(line) {
            user = Some(v);
            group = None;
        } else if let Some(v) = line.strip_prefix(b"Ou") {
            user = Some(String::from_utf8_lossy(v).trim().to_string());
        } else if let Some(v) = line.strip_prefix(b"Og") {
            group = Some(String::from_utf8_lossy(v).trim().to_string());
        }
    }
    match (user, group) {
        (Some(u), Some(g)) if !u.contains(':') => Some(format!("{u}:{g}")),
        (u, _) => u,
    }
}

/// Sets `O DefaultUser=VALUE` in a cf: rewrites active lines (an old `Ou` line becomes the new line
/// and an old `Og` line is commented out, since DefaultUser carries the group); with none, uncomments
/// the `#O DefaultUser` line sendmail's m4 writes for an unset option, or adds the line after the
/// last `O ` option.
pub fn cf_set(text: &[u8], value: &str) -> Result<Vec<u8>, String> {
    let new_line = format!("O DefaultUser={value}\n");
    let mut ls: Vec<Vec<u8>> = lines(text).into_iter().map(<[u8]>::to_vec).collect();
    let mut found = false;
    for l in ls.iter_mut() {
        let body = l.strip_suffix(b"\n").unwrap_or(l);
        if option_value(body).is_some() || body.starts_with(b"Ou") {
            *l = new_line.clone().into_bytes();
            found = true;
        } else if body.starts_with(b"Og") {
            l.insert(0, b'#');
        }
    }
    if !found {
        if let Some(l) = ls
            .iter_mut()
            .rev()
            .find(|l| l.starts_with(b"#O DefaultUser"))
        {
            *l = new_line.into_bytes();
        } else if let Some(i) = ls.iter().rposition(|l| l.starts_with(b"O ")) {
            if !ls[i].ends_with(b"\n") {
                ls[i].push(b'\n');
            }
            ls.insert(i + 1, new_line.into_bytes());
        } else {
            return Err("no 'O' option lines: this does not look like a sendmail.cf".into());
        }
    }
    Ok(ls.concat())
}

/// Where the quoted name ends, if `rest` (just after `define(`) names confDEF_USER_ID.
fn after_name(rest: &[u8]) -> Option<usize> {
    const NAME: &[u8] = b"confDEF_USER_ID";
    let r = trim_start(rest);
    let skipped = rest.len() - r.len();
    if let Some(q) = r.strip_prefix(b"`") {
        q.strip_prefix(NAME)?.strip_prefix(b"'")?;
        Some(skipped + 1 + NAME.len() + 1)
    } else {
        r.strip_prefix(NAME)?;
        Some(skipped + NAME.len())
    }
}

/// The span of the value inside a define's second argument (innermost quotes kept outside the span).
fn value_span(line: &[u8]) -> Option<(usize, usize)> {
    let code = trim_start(line);
    if code.starts_with(b"dnl") || code.starts_with(b"#") {
        return None;
    }
    let start = line.windows(7).position(|w| w == b"define(")? + 7;
    let name_end = start + after_name(&line[start..])?;
    let rest = &line[name_end..];
    let comma = trim_start(rest).strip_prefix(b",")?;
    let mut pos = line.len() - comma.len();
    pos += comma.len() - trim_start(comma).len();
    // Opening quotes: one or more backquotes (Red Hat writes ``8:12'').
    let opens = line[pos..].iter().take_while(|b| **b == b'`').count();
    let vstart = pos + opens;
    let vend = if opens > 0 {
        vstart + line[vstart..].iter().position(|b| *b == b'\'')?
    } else {
        vstart
            + line[vstart..]
                .iter()
                .position(|b| *b == b')' || b.is_ascii_whitespace())?
    };
    (vend >= vstart).then_some((vstart, vend))
}

/// The value of the last active `define(`confDEF_USER_ID', ...)` of an mc.
pub fn mc_get(text: &[u8]) -> Option<String> {
    lines(text)
        .into_iter()
        .rev()
        .find_map(|l| value_span(l).map(|(a, b)| String::from_utf8_lossy(&l[a..b]).into_owned()))
}

/// Sets confDEF_USER_ID in an mc: rewrites the value of each active define in place (quoting kept);
/// with none, adds `define(`confDEF_USER_ID', `VALUE')dnl` after the OSTYPE/DOMAIN/FEATURE lines and
/// before the first MAILER (an OSTYPE such as debian defines it too, so ours must come later).
pub fn mc_set(text: &[u8], value: &str) -> Result<Vec<u8>, String> {
    if value.contains(['`', '\'', ')', '(', ',', '\n']) {
        return Err(format!(
            "value '{value}' cannot be written inside m4 quotes"
        ));
    }
    let mut ls: Vec<Vec<u8>> = lines(text).into_iter().map(<[u8]>::to_vec).collect();
    let mut found = false;
    for l in ls.iter_mut() {
        if let Some((a, b)) = value_span(l) {
            l.splice(a..b, value.bytes());
            found = true;
        }
    }
    if !found {
        let is_code = |l: &[u8], word: &[u8]| trim_start(l).starts_with(word);
        let mailer = ls.iter().position(|l| is_code(l, b"MAILER("));
        let setup = ls.iter().rposition(|l| {
            is_code(l, b"OSTYPE(") || is_code(l, b"DOMAIN(") || is_code(l, b"FEATURE(")
        });
        let at = match (setup, mailer) {
            (_, Some(m)) => m,
            (Some(s), None) => s + 1,
            (None, None) => {
                return Err(
                    "no OSTYPE, FEATURE or MAILER line: this does not look like a sendmail.mc"
                        .into(),
                )
            }
        };
        if at > 0 && !ls[at - 1].ends_with(b"\n") {
            ls[at - 1].push(b'\n');
        }
        ls.insert(
            at,
            format!("define(`confDEF_USER_ID', `{value}')dnl\n").into_bytes(),
        );
    }
    Ok(ls.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cf_value_is_replaced_exactly() {
        let cf = b"# default UID\nO DefaultUser=mail:mail\nO QueueDirectory=/var/spool/mqueue\n";
        assert_eq!(cf_get(cf).as_deref(), Some("mail:mail"));
        let out = cf_set(cf, "501:501").unwrap();
        assert_eq!(
            out,
            b"# default UID\nO DefaultUser=501:501\nO QueueDirectory=/var/spool/mqueue\n"
        );
        assert_eq!(cf_set(&out, "501:501").unwrap(), out, "idempotent");
    }

    #[test]
    fn cf_forms_sendmail_accepts() {
        assert_eq!(
            cf_get(b"O DefaultUser = 501:501\n").as_deref(),
            Some("501:501")
        );
        assert_eq!(cf_get(b"Ou8\nOg12\n").as_deref(), Some("8:12"));
        assert_eq!(cf_get(b"#O DefaultUser=mail:mail\n"), None);
        assert_eq!(cf_get(b"\xff\xfe"), None);
        assert_eq!(
            cf_get(b"O DefaultUser=a:b\nOu9\n").as_deref(),
            Some("9"),
            "last setting wins"
        );
        let old = b"V10\nOu8\nOg12\nO QueueDirectory=/q\n";
        let new = cf_set(old, "501:501").unwrap();
        assert_eq!(
            new,
            b"V10\nO DefaultUser=501:501\n#Og12\nO QueueDirectory=/q\n"
        );
        assert_eq!(cf_get(&new).as_deref(), Some("501:501"));
        let spaced = cf_set(b"O DefaultUser = mail:mail\n", "1:2").unwrap();
        assert_eq!(spaced, b"O DefaultUser=1:2\n");
    }

    #[test]
    fn cf_commented_default_is_uncommented_and_missing_is_added() {
        let cf = b"O QueueDirectory=/q\n# default UID\n#O DefaultUser=mailnull\n";
        assert_eq!(cf_get(cf), None);
        assert_eq!(
            cf_set(cf, "8:12").unwrap(),
            b"O QueueDirectory=/q\n# default UID\nO DefaultUser=8:12\n"
        );
        let bare = b"V10/Berkeley\nO QueueDirectory=/q\nO Timeout.queuereturn=5d\nS0\n";
        assert_eq!(
            cf_set(bare, "8:12").unwrap(),
            b"V10/Berkeley\nO QueueDirectory=/q\nO Timeout.queuereturn=5d\nO DefaultUser=8:12\nS0\n"
        );
        assert!(cf_set(b"hello\n", "1:1").is_err());
    }

    #[test]
    fn mc_quoting_is_kept() {
        let ensim =
            b"OSTYPE(`linux')dnl\ndefine(`confDEF_USER_ID',``mail:mail'')dnl\nMAILER(smtp)dnl\n";
        assert_eq!(mc_get(ensim).as_deref(), Some("mail:mail"));
        assert_eq!(
            mc_set(ensim, "501:501").unwrap(),
            b"OSTYPE(`linux')dnl\ndefine(`confDEF_USER_ID',``501:501'')dnl\nMAILER(smtp)dnl\n"
        );
        let spaced = b"define( `confDEF_USER_ID' ,  `8:12' )dnl # comment\n";
        assert_eq!(
            mc_set(spaced, "1:2").unwrap(),
            b"define( `confDEF_USER_ID' ,  `1:2' )dnl # comment\n"
        );
        let bare = b"define(confDEF_USER_ID, mail:mail)\n";
        assert_eq!(
            mc_set(bare, "1:2").unwrap(),
            b"define(confDEF_USER_ID, 1:2)\n"
        );
    }

    #[test]
    fn mc_commented_defines_are_ignored_and_a_define_is_added_before_mailer() {
        let mc = b"dnl define(`confDEF_USER_ID', `x')\nOSTYPE(`debian')dnl\nFEATURE(`smrsh')dnl\nMAILER(`local')dnl\n";
        assert_eq!(mc_get(mc), None);
        assert_eq!(
            mc_set(mc, "501:501").unwrap(),
            b"dnl define(`confDEF_USER_ID', `x')\nOSTYPE(`debian')dnl\nFEATURE(`smrsh')dnl\ndefine(`confDEF_USER_ID', `501:501')dnl\nMAILER(`local')dnl\n"
        );
        assert!(mc_set(b"nothing here", "1:1").is_err());
        assert!(mc_set(b"MAILER(smtp)\n", "a'b").is_err());
    }

    #[test]
    fn other_defines_are_untouched_and_odd_bytes_survive() {
        let mc = b"define(`confDEF_USER_IDX', `keep')dnl\n\xff\xfe\ndefine(`confDEF_USER_ID', `mail:mail')dnl\n";
        let out = mc_set(mc, "9:9").unwrap();
        assert_eq!(out, b"define(`confDEF_USER_IDX', `keep')dnl\n\xff\xfe\ndefine(`confDEF_USER_ID', `9:9')dnl\n");
    }
}
