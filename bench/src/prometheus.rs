//! Reading a service's `/metrics` (Prometheus text exposition) as the benchmarks need it.

/// Every sample of the metric `name`: its labels (the text between the braces, empty when
/// it has none) and its value. Other metrics, longer names included, are skipped.
pub fn samples<'a>(metrics: &'a str, name: &'a str) -> impl Iterator<Item = (&'a str, f64)> {
    metrics.lines().filter_map(move |line| {
        let (series, value) = line.rsplit_once(' ')?;
        let labels = match series.strip_prefix(name)? {
            "" => "",
            rest => rest.strip_prefix('{')?.strip_suffix('}')?,
        };
        Some((labels, value.trim().parse().ok()?))
    })
}

/// The sum of the samples of `name` whose labels `keep` accepts (a counter's total over
/// its label sets); 0 when there are none.
pub fn total_where(metrics: &str, name: &str, keep: impl Fn(&str) -> bool) -> f64 {
    samples(metrics, name)
        .filter(|(labels, _)| keep(labels))
        .fold(0.0, |sum, (_, value)| sum + value)
}

/// The sum of every sample of `name`; 0 when there is none.
pub fn total(metrics: &str, name: &str) -> f64 {
    total_where(metrics, name, |_| true)
}

/// The p99 of the histogram `name`, interpolated within its bucket.
pub fn histogram_p99(metrics: &str, name: &str) -> Option<f64> {
    let mut buckets: Vec<(f64, f64)> = samples(metrics, &format!("{name}_bucket"))
        .filter_map(|(labels, count)| {
            let le = labels.strip_prefix("le=\"")?.strip_suffix('"')?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total == 0.0 {
        return None;
    }
    let target = total * 0.99;
    let (mut low, mut below) = (0.0, 0.0);
    for (le, count) in buckets {
        if count >= target {
            if le.is_infinite() {
                return Some(low);
            }
            let share = (target - below) / (count - below).max(1.0);
            return Some(low + (le - low) * share);
        }
        (low, below) = (le, count);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_their_series_and_ignore_longer_names() {
        let metrics = "# TYPE arena_snapshots_dropped_total counter\n\
                       arena_snapshots_dropped_total 7\n\
                       arena_snapshots_dropped_total_other 100\n\
                       arena_slow_disconnects_total{lobby=\"a\"} 2\n\
                       arena_slow_disconnects_total{lobby=\"b\"} 3\n";
        assert_eq!(total(metrics, "arena_snapshots_dropped_total"), 7.0);
        assert_eq!(total(metrics, "arena_slow_disconnects_total"), 5.0);
        assert_eq!(
            total_where(metrics, "arena_slow_disconnects_total", |l| l
                == "lobby=\"b\""),
            3.0
        );
        assert_eq!(total(metrics, "arena_missing_total"), 0.0);
    }

    #[test]
    fn p99_is_interpolated_within_its_bucket() {
        let metrics = "arena_tick_seconds_bucket{le=\"0.001\"} 90\n\
                       arena_tick_seconds_bucket{le=\"0.002\"} 98\n\
                       arena_tick_seconds_bucket{le=\"0.004\"} 100\n\
                       arena_tick_seconds_bucket{le=\"+Inf\"} 100\n";
        let p99 = histogram_p99(metrics, "arena_tick_seconds").unwrap();
        assert!((p99 - 0.003).abs() < 1e-9, "{p99}");
    }
}
