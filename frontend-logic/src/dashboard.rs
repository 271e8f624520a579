//! Reordering a dashboard's metrics.

/// Swaps a metric with its neighbour (`delta` -1 up, +1 down); `None` at the edges.
pub fn moved(ids: &[i64], id: i64, delta: i32) -> Option<Vec<i64>> {
    let index = ids.iter().position(|x| *x == id)?;
    let target = index.checked_add_signed(delta as isize)?;
    if target >= ids.len() {
        return None;
    }
    let mut ids = ids.to_vec();
    ids.swap(index, target);
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::moved;

    #[test]
    fn moves_metrics_within_bounds() {
        assert_eq!(moved(&[1, 2, 3], 2, -1), Some(vec![2, 1, 3]));
        assert_eq!(moved(&[1, 2, 3], 2, 1), Some(vec![1, 3, 2]));
        assert_eq!(moved(&[1, 2, 3], 1, -1), None);
        assert_eq!(moved(&[1, 2, 3], 3, 1), None);
        assert_eq!(moved(&[1, 2, 3], 9, 1), None);
        assert_eq!(moved(&[], 1, 1), None);
    }
}
