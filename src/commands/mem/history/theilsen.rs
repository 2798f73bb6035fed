//! The Theil-Sen estimator (pure): the median of the slopes between every pair of points, with the
//! distribution-free confidence interval from Kendall's tau (Sen 1968). Half the points can be
//! outliers or one jump before the slope moves, where a least-squares line follows them.

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959964;

/// Slope (per unit of x) and its 95% confidence bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slope {
    pub slope: f64,
    pub low: f64,
    pub high: f64,
}

/// `None` for fewer than two points at distinct x.
pub fn slope(points: &[(f64, f64)]) -> Option<Slope> {
    let n = points.len();
    let mut slopes = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let dx = b.0 - a.0;
            if dx != 0.0 && dx.is_finite() {
                let s = (b.1 - a.1) / dx;
                if s.is_finite() {
                    slopes.push(s);
                }
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let m = slopes.len();
    let median = if m % 2 == 1 {
        slopes[m / 2]
    } else {
        (slopes[m / 2 - 1] + slopes[m / 2]) / 2.0
    };
    // Ranks of the bounds: (M -/+ z * sd(S)) / 2, S being Kendall's statistic over n points.
    let nf = n as f64;
    let c = Z95 * (nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0).sqrt();
    let lo = (((m as f64 - c) / 2.0).floor().max(0.0) as usize).min(m - 1);
    let hi = (((m as f64 + c) / 2.0).ceil() as usize).min(m - 1);
    Some(Slope {
        slope: median,
        low: slopes[lo],
        high: slopes[hi],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_its_own_slope_with_no_doubt() {
        let pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 * i as f64 + 7.0)).collect();
        let s = slope(&pts).unwrap();
        assert_eq!((s.slope, s.low, s.high), (3.0, 3.0, 3.0));
        assert_eq!(slope(&[(1.0, 1.0), (1.0, 5.0)]), None);
        assert_eq!(slope(&[]), None);
    }

    #[test]
    fn outliers_do_not_move_it_and_noise_widens_the_bounds() {
        let mut pts: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, 2.0 * i as f64)).collect();
        pts[3].1 = 1e9;
        pts[15].1 = -1e9;
        let s = slope(&pts).unwrap();
        assert!((s.slope - 2.0).abs() < 1e-9, "{s:?}");
        let noisy: Vec<(f64, f64)> = (0..20)
            .map(|i| (i as f64, 2.0 * i as f64 + ((i * 7919) % 13) as f64 - 6.0))
            .collect();
        let s = slope(&noisy).unwrap();
        assert!(
            s.low < s.high && s.low <= 2.0 && s.high >= 2.0 && s.low > 0.0,
            "{s:?}"
        );
        // Pure noise around a flat line: the interval spans zero.
        let flat: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, ((i * 7) % 5) as f64)).collect();
        let s = slope(&flat).unwrap();
        assert!(s.low <= 0.0 && s.high >= 0.0, "{s:?}");
    }
}
