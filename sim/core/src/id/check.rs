//! The check-digit algorithms, each written once over digit values.
//!
//! | scheme | used by | rule |
//! |---|---|---|
//! | [`my_number`] | 個人番号 | mod 11, weights 6 5 4 3 2 7 6 5 4 3 2 from the left; r ≤ 1 → 0, else 11 − r |
//! | [`municipality`] | 全国地方公共団体コード | mod 11, weights 6 5 4 3 2; (11 − r) mod 10 |
//! | [`luhn`] | 保険者番号, 事業所番号, 医療機関コード | mod 10, weights 2 1 2 1 … from the right, two-digit products split; (10 − s mod 10) mod 10 |
//!
//! The two mod-11 rules map two remainders to one check digit (My Number: r = 0 and 1 → 0;
//! municipality code: r = 0 and 10 → 1). A substitution that moves the body's remainder
//! between the two colliding values therefore passes: this is a property of the published
//! rules, not of this code, and [`mod11_collision`] tells the tests which ones.

/// Check digit of a My Number body of 11 digit values (平成26年総務省令第85号 第5条).
pub fn my_number(body: &[u8; 11]) -> u8 {
    let r = my_number_remainder(body);
    if r <= 1 { 0 } else { 11 - r }
}

/// The remainder `Σ Pn·Qn mod 11` of a My Number body.
pub fn my_number_remainder(body: &[u8; 11]) -> u8 {
    const WEIGHTS: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    weighted_sum(body, &WEIGHTS, 11)
}

/// Check digit of a municipality code body of 5 digit values.
pub fn municipality(body: &[u8; 5]) -> u8 {
    (11 - municipality_remainder(body)) % 10
}

/// The remainder `Σ dᵢ·wᵢ mod 11` of a municipality code body.
pub fn municipality_remainder(body: &[u8; 5]) -> u8 {
    const WEIGHTS: [u32; 5] = [6, 5, 4, 3, 2];
    weighted_sum(body, &WEIGHTS, 11)
}

/// Whether two remainders of a mod-11 scheme share a check digit (the blind spot above).
pub fn mod11_collision(scheme: Mod11, a: u8, b: u8) -> bool {
    let pair = match scheme {
        Mod11::MyNumber => [0, 1],
        Mod11::Municipality => [0, 10],
    };
    a != b && pair.contains(&a) && pair.contains(&b)
}

/// The two mod-11 schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mod11 {
    /// 個人番号.
    MyNumber,
    /// 全国地方公共団体コード.
    Municipality,
}

/// Check digit of the modulus-10 weights-2-1 split-digit scheme over character values
/// (digits 0–9, and for care-office numbers letters 10–32). The rightmost body value gets
/// weight 2.
pub fn luhn(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(idx, &v)| {
            let product = u32::from(v) * if idx % 2 == 0 { 2 } else { 1 };
            product / 10 + product % 10
        })
        .sum();
    // `sum % 10` is below 10, so the result fits a digit.
    ((10 - sum % 10) % 10) as u8
}

fn weighted_sum(body: &[u8], weights: &[u32], modulus: u32) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d) * w)
        .sum();
    // The remainder is below the modulus (11), so it fits a u8.
    (sum % modulus) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn my_number_worked_examples_from_domain_facts() {
        assert_eq!(my_number_remainder(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]), 3);
        assert_eq!(my_number(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]), 8);
        assert_eq!(my_number(&[2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 4]), 0);
    }

    #[test]
    fn municipality_edge_remainders_map_to_published_digits() {
        // 苫小牧市 01213: r = 0 → 1; 紋別市 01219: r = 1 → 0.
        assert_eq!(municipality(&[0, 1, 2, 1, 3]), 1);
        assert_eq!(municipality(&[0, 1, 2, 1, 9]), 0);
    }

    #[test]
    fn luhn_worked_examples() {
        assert_eq!(luhn(&[3, 3, 1, 2, 0, 0, 1]), 5); // medical insurer 33120015
        assert_eq!(luhn(&[1, 3, 1, 0, 1]), 1); // 千代田区 131011
        assert_eq!(luhn(&[1, 3, 10, 0, 1, 0, 0, 0, 1]), 9); // 13A0100019 (synthetic)
    }

    #[test]
    fn mod11_collisions_are_exactly_the_folded_remainders() {
        assert!(mod11_collision(Mod11::MyNumber, 0, 1));
        assert!(!mod11_collision(Mod11::MyNumber, 0, 10));
        assert!(mod11_collision(Mod11::Municipality, 10, 0));
        assert!(!mod11_collision(Mod11::Municipality, 1, 0));
    }
}
