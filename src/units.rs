//! Sizes and durations as administrators type and read them: `20M`, `20MB`, `90s`, `3d`.
//!
//! Parsing is strict (anything unexpected is an error quoting the value); formatting is compact
//! and never lies about precision.

use std::fmt;
use std::str::FromStr;

/// A byte count given on the command line. `20M`/`20MiB` are binary, `20MB` decimal, plain numbers bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size(pub u64);

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Size, String> {
        let bad =
            || format!("invalid size '{s}' (expected e.g. 20M, 20MiB, 20MB, 512K or a byte count)");
        let t = s.trim();
        let split = t
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        if num.is_empty()
            || num.starts_with('.')
            || num.ends_with('.')
            || num.matches('.').count() > 1
        {
            return Err(bad());
        }
        // One rule for letter case: units are case-insensitive (20k = 20K, 20mb = 20MB); a bare
        // letter or an `iB` suffix is binary, a `B` after the letter decimal.
        let mult: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" => 1 << 10,
            "m" | "mib" => 1 << 20,
            "g" | "gib" => 1 << 30,
            "t" | "tib" => 1 << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => return Err(bad()),
        };
        let value = if let Some((int, frac)) = num.split_once('.') {
            // Fractions are exact in decimal: 1.5M = 3 * 2^19, computed without floating point.
            let int: u64 = int.parse().map_err(|_| bad())?;
            let scale = 10u64.checked_pow(frac.len() as u32).ok_or_else(bad)?;
            let frac: u64 = frac.parse().map_err(|_| bad())?;
            let whole = int.checked_mul(mult).ok_or_else(bad)?;
            let part = (frac as u128 * mult as u128 / scale as u128) as u64;
            whole.checked_add(part).ok_or_else(bad)?
        } else {
            let n: u64 = num.parse().map_err(|_| bad())?;
            n.checked_mul(mult).ok_or_else(bad)?
        };
        Ok(Size(value))
    }
}

/// A duration given on the command line: `90s`, `15m`, `2h`, `3d` (a plain number is seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub u64);

impl Duration {
    pub fn secs(self) -> u64 {
        self.0
    }
}

impl FromStr for Duration {
    type Err = String;

    fn from_str(s: &str) -> Result<Duration, String> {
        let bad = || format!("invalid duration '{s}' (expected e.g. 90s, 15m, 2h, 3d)");
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let mult = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        n.checked_mul(mult).map(Duration).ok_or_else(bad)
    }
}

/// Binary-prefixed size for people: `38.0 MiB`, `77.2 GiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Compact age: `45s`, `12m`, `3h 5m`, `2d 4h`. Two units at most: an administrator wants the order of magnitude.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// Integer with thousands separators: `2,074`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `YYYYMMDD-HHMMSS` in UTC, for names of later backups (civil date from days since the epoch,
/// after Howard Hinnant's algorithm, so no date library is needed for one stamp).
pub fn utc_stamp(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_size(self.0))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(s: &str) -> Result<u64, String> {
        s.parse::<Size>().map(|s| s.0)
    }

    #[test]
    fn sizes_binary_and_decimal() {
        assert_eq!(size("20M"), Ok(20 << 20));
        assert_eq!(size("20MiB"), Ok(20 << 20));
        assert_eq!(size("20MB"), Ok(20_000_000));
        assert_eq!(size("512K"), Ok(512 << 10));
        assert_eq!(size("1G"), Ok(1 << 30));
        assert_eq!(size("2T"), Ok(2 << 40));
        assert_eq!(size("1234"), Ok(1234));
        assert_eq!(size("1.5M"), Ok(3 << 19));
        assert_eq!(size("0"), Ok(0));
        // one rule for letter case: every unit is case-insensitive
        for (lower, upper) in [("20k", "20K"), ("20m", "20M"), ("20g", "20G"), ("2t", "2T")] {
            assert_eq!(size(lower), size(upper), "{lower}");
        }
        assert_eq!(size("20mb"), Ok(20_000_000));
        assert_eq!(size("20mib"), Ok(20 << 20));
        assert_eq!(size("20b"), Ok(20));
    }

    #[test]
    fn bad_sizes_quote_the_value() {
        for bad in [
            "",
            "M",
            "20X",
            "-5M",
            "20 M",
            "1.2.3M",
            "1.M",
            "99999999999999999999",
            "20Mi",
            "16777216T",
        ] {
            let err = size(bad).unwrap_err();
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
    }

    #[test]
    fn durations() {
        let d = |s: &str| s.parse::<Duration>().map(|d| d.0);
        assert_eq!(d("90s"), Ok(90));
        assert_eq!(d("15m"), Ok(900));
        assert_eq!(d("2h"), Ok(7200));
        assert_eq!(d("3d"), Ok(259_200));
        assert_eq!(d("60"), Ok(60));
        for bad in ["", "s", "1w", "1.5h", "-1s", "1h30m"] {
            assert!(d(bad).unwrap_err().contains(&format!("'{bad}'")));
        }
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(1_763_769_600 + 3_723), "20251122-010203");
        assert_eq!(utc_stamp(4_107_542_399), "21000228-235959");
    }

    #[test]
    fn human_forms() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(38 << 20), "38.0 MiB");
        assert_eq!(human_size(2074 * (38 << 20)), "77.0 GiB");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(3600 * 27 + 60), "1d 3h");
        assert_eq!(human_duration(3 * 3600 + 5 * 60), "3h 5m");
        assert_eq!(human_duration(120), "2m");
        assert_eq!(thousands(2074), "2,074");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
