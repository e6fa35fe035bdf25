//! Ratios, medians over rounds, and the targets each row is held to.

use std::fmt;

/// The median of `values` (the mean of the middle two for an even count); `None` when empty or
/// when any value is NaN.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// `value / base`, or `None` when the base is zero or not finite.
pub fn ratio(value: f64, base: f64) -> Option<f64> {
    (base.is_finite() && base != 0.0 && value.is_finite()).then(|| value / base)
}

/// How a measured value is compared with its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The value must be at least the bound.
    AtLeast,
    /// The value must be at most the bound.
    AtMost,
    /// The value must equal the bound.
    Exactly,
}

/// What a row promises: a ratio (or count) and its bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// How the value is compared.
    pub bound: Bound,
    /// The limit.
    pub limit: f64,
    /// How the limit reads: `×` for ratios, `%` for shares (the limit is a fraction, printed as
    /// a percentage), or empty for plain counts.
    pub unit: Unit,
}

/// How a target's numbers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A ratio: `0.80×`.
    Times,
    /// A fraction printed as a percentage: `1.0 %`.
    Percent,
    /// A count: `1`.
    Count,
}

impl Unit {
    /// `value` printed in this unit.
    pub fn format(self, value: f64) -> String {
        match self {
            // Two significant digits below 0.1, so that 0.0014× does not print as 0.00×.
            Unit::Times if value > 0.0 && value < 0.095 => {
                let decimals = (-value.log10()).floor() as usize + 2;
                format!("{value:.decimals$}×")
            }
            Unit::Times => format!("{value:.2}×"),
            Unit::Percent => format!("{:.1} %", value * 100.0),
            Unit::Count => format!("{value:.0}"),
        }
    }
}

/// Whether a target was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The measured value is within the bound.
    Met,
    /// It is not.
    Missed,
    /// There is no valid measurement to judge (the row had errors, or was skipped).
    Unmeasured,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Met => "met",
            Verdict::Missed => "missed",
            Verdict::Unmeasured => "not measured",
        })
    }
}

impl Target {
    /// Value must be ≥ `limit` times the base.
    pub const fn at_least(limit: f64) -> Self {
        Self {
            bound: Bound::AtLeast,
            limit,
            unit: Unit::Times,
        }
    }

    /// Value must be ≤ `limit` times the base.
    pub const fn at_most(limit: f64) -> Self {
        Self {
            bound: Bound::AtMost,
            limit,
            unit: Unit::Times,
        }
    }

    /// A share that must be ≤ `limit` (a fraction: 0.01 is 1 %).
    pub const fn share_at_most(limit: f64) -> Self {
        Self {
            bound: Bound::AtMost,
            limit,
            unit: Unit::Percent,
        }
    }

    /// A count that must be exactly `count`.
    pub const fn exactly(count: u64) -> Self {
        Self {
            bound: Bound::Exactly,
            limit: count as f64,
            unit: Unit::Count,
        }
    }

    /// Judges a measured value; `None` (no valid measurement) is [`Verdict::Unmeasured`].
    pub fn judge(&self, value: Option<f64>) -> Verdict {
        let Some(value) = value.filter(|v| v.is_finite()) else {
            return Verdict::Unmeasured;
        };
        let met = match self.bound {
            Bound::AtLeast => value >= self.limit,
            Bound::AtMost => value <= self.limit,
            Bound::Exactly => value == self.limit,
        };
        if met {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    /// `≥ 0.80×`, `≤ 1.0 %`, `= 1`.
    pub fn describe(&self) -> String {
        let sign = match self.bound {
            Bound::AtLeast => "≥",
            Bound::AtMost => "≤",
            Bound::Exactly => "=",
        };
        format!("{sign} {}", self.unit.format(self.limit))
    }

    /// The verdict with the value it judged: `met (0.93×)`, `missed (12.0 %)`.
    pub fn verdict_line(&self, value: Option<f64>) -> String {
        match (self.judge(value), value) {
            (Verdict::Unmeasured, _) | (_, None) => Verdict::Unmeasured.to_string(),
            (verdict, Some(value)) => format!("{verdict} ({})", self.unit.format(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn ratio_guards_against_zero_base() {
        assert_eq!(ratio(50.0, 100.0), Some(0.5));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(f64::INFINITY, 1.0), None);
    }

    #[test]
    fn at_least_is_inclusive() {
        let target = Target::at_least(0.8);
        assert_eq!(target.judge(Some(0.8)), Verdict::Met);
        assert_eq!(target.judge(Some(0.95)), Verdict::Met);
        assert_eq!(target.judge(Some(0.79)), Verdict::Missed);
        assert_eq!(target.judge(None), Verdict::Unmeasured);
        assert_eq!(target.judge(Some(f64::NAN)), Verdict::Unmeasured);
    }

    #[test]
    fn at_most_is_inclusive() {
        let target = Target::at_most(3.0);
        assert_eq!(target.judge(Some(3.0)), Verdict::Met);
        assert_eq!(target.judge(Some(3.01)), Verdict::Missed);
    }

    #[test]
    fn share_and_count_targets() {
        let share = Target::share_at_most(0.01);
        assert_eq!(share.judge(Some(0.005)), Verdict::Met);
        assert_eq!(share.judge(Some(0.2)), Verdict::Missed);
        assert_eq!(share.describe(), "≤ 1.0 %");
        assert_eq!(share.verdict_line(Some(0.123)), "missed (12.3 %)");
        let exactly = Target::exactly(1);
        assert_eq!(exactly.judge(Some(1.0)), Verdict::Met);
        assert_eq!(exactly.judge(Some(64.0)), Verdict::Missed);
        assert_eq!(exactly.judge(Some(0.0)), Verdict::Missed);
        assert_eq!(exactly.describe(), "= 1");
    }

    #[test]
    fn descriptions() {
        assert_eq!(Target::at_least(0.8).describe(), "≥ 0.80×");
        assert_eq!(Target::at_most(3.0).describe(), "≤ 3.00×");
        assert_eq!(
            Target::at_least(0.5).verdict_line(Some(0.61)),
            "met (0.61×)"
        );
        assert_eq!(Target::at_least(0.5).verdict_line(None), "not measured");
        assert_eq!(Unit::Times.format(0.00143), "0.0014×");
        assert_eq!(Unit::Times.format(0.05), "0.050×");
        assert_eq!(Unit::Times.format(0.0), "0.00×");
        assert_eq!(Unit::Times.format(119.287), "119.29×");
    }
}
