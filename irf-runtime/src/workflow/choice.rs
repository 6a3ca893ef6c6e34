//! Choice rule conditions: `And`/`Or`/`Not`, the string, numeric and boolean comparisons (with
//! their `…Path` forms), `StringMatches` and the type tests. As in Step Functions, a comparison
//! of a value of another type is false, and a `Variable` that is not in the input is a runtime
//! error unless the rule tests `IsPresent`.

use serde_json::Value;

use super::Failure;
use super::paths;

/// Whether `condition` holds for `input`.
pub(crate) fn holds(condition: &Value, input: &Value, context: &Value) -> Result<bool, Failure> {
    let rule = condition
        .as_object()
        .ok_or_else(|| Failure::runtime(format!("choice rule {condition} is not an object")))?;
    if let Some(all) = rule.get("And") {
        return every(all, input, context, true);
    }
    if let Some(any) = rule.get("Or") {
        return every(any, input, context, false);
    }
    if let Some(inner) = rule.get("Not") {
        return Ok(!holds(inner, input, context)?);
    }
    let variable = rule
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::runtime(format!("choice rule {condition} has no Variable")))?;
    let (op, operand) = rule
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "Variable" | "Next" | "Comment"))
        .ok_or_else(|| Failure::runtime(format!("choice rule {condition} has no comparison")))?;
    let value = paths::lookup(variable, input, context)?;
    if op == "IsPresent" {
        return Ok(value.is_some() == (operand == &Value::Bool(true)));
    }
    let value = value.ok_or_else(|| {
        Failure::runtime(format!(
            "the choice rule's Variable {variable:?} could not be found in the input"
        ))
    })?;
    let (base, operand) = match op.strip_suffix("Path") {
        Some(base) if !op.starts_with("Is") => {
            let path = operand
                .as_str()
                .ok_or_else(|| Failure::runtime(format!("{op} in {condition} is not a path")))?;
            (base, paths::get(path, input, context)?)
        }
        _ => (op.as_str(), operand.clone()),
    };
    compare(base, &value, &operand).ok_or_else(|| {
        Failure::runtime(format!("{op} is not a comparison the local executor knows"))
    })
}

fn every(rules: &Value, input: &Value, context: &Value, all: bool) -> Result<bool, Failure> {
    let rules = rules
        .as_array()
        .ok_or_else(|| Failure::runtime(format!("And/Or takes a list, not {rules}")))?;
    for r in rules {
        if holds(r, input, context)? != all {
            return Ok(!all);
        }
    }
    Ok(all)
}

/// `Some(result)` for a known comparison (false when the types differ), `None` otherwise.
fn compare(op: &str, value: &Value, operand: &Value) -> Option<bool> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let strings = || value.as_str().zip(operand.as_str()).map(|(a, b)| a.cmp(b));
    let numbers = || {
        value
            .as_f64()
            .zip(operand.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b))
    };
    let ordered = |o: Option<std::cmp::Ordering>, want: &[std::cmp::Ordering]| {
        Some(o.is_some_and(|o| want.contains(&o)))
    };
    match op {
        "StringEquals" => ordered(strings(), &[Equal]),
        "StringLessThan" => ordered(strings(), &[Less]),
        "StringLessThanEquals" => ordered(strings(), &[Less, Equal]),
        "StringGreaterThan" => ordered(strings(), &[Greater]),
        "StringGreaterThanEquals" => ordered(strings(), &[Greater, Equal]),
        "NumericEquals" => ordered(numbers(), &[Equal]),
        "NumericLessThan" => ordered(numbers(), &[Less]),
        "NumericLessThanEquals" => ordered(numbers(), &[Less, Equal]),
        "NumericGreaterThan" => ordered(numbers(), &[Greater]),
        "NumericGreaterThanEquals" => ordered(numbers(), &[Greater, Equal]),
        "BooleanEquals" => Some(value.as_bool().is_some() && value.as_bool() == operand.as_bool()),
        "StringMatches" => Some(
            value
                .as_str()
                .zip(operand.as_str())
                .is_some_and(|(v, p)| wildcard(p, v)),
        ),
        "IsNull" => Some(value.is_null() == (operand == &Value::Bool(true))),
        "IsString" => Some(value.is_string() == (operand == &Value::Bool(true))),
        "IsNumeric" => Some(value.is_number() == (operand == &Value::Bool(true))),
        "IsBoolean" => Some(value.is_boolean() == (operand == &Value::Bool(true))),
        _ => None,
    }
}

/// `StringMatches`: `*` matches any run of characters, `\*` a literal star.
fn wildcard(pattern: &str, value: &str) -> bool {
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => parts.last_mut().expect("one part").extend(chars.next()),
            '*' => parts.push(String::new()),
            c => parts.last_mut().expect("one part").push(c),
        }
    }
    let (first, rest) = parts.split_first().expect("one part");
    let Some(mut tail) = value.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for m in middle {
        match tail.find(m.as_str()) {
            Some(i) => tail = &tail[i + m.len()..],
            None => return false,
        }
    }
    tail.ends_with(last.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn h(c: Value, input: Value) -> Result<bool, Failure> {
        holds(&c, &input, &Value::Null)
    }

    #[test]
    fn comparisons_follow_step_functions() {
        let input = json!({"Ready": true, "Count": 3, "Method": "kcore", "Limit": 3, "N": null});
        assert!(
            h(
                json!({"Variable": "$.Ready", "BooleanEquals": true}),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            h(
                json!({"Variable": "$.Count", "NumericGreaterThanEquals": 3}),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            !h(
                json!({"Variable": "$.Count", "NumericLessThan": 3}),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            h(
                json!({"Variable": "$.Count", "NumericEqualsPath": "$.Limit"}),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            h(
                json!({"Variable": "$.Method", "StringEquals": "kcore"}),
                input.clone()
            )
            .unwrap()
        );
        // Another type compares false, as in Step Functions.
        assert!(
            !h(
                json!({"Variable": "$.Method", "NumericEquals": 1}),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            !h(
                json!({"Variable": "$.Count", "BooleanEquals": true}),
                input.clone()
            )
            .unwrap()
        );
        assert!(h(json!({"Variable": "$.N", "IsNull": true}), input.clone()).unwrap());
        assert!(
            h(
                json!({"Variable": "$.Gone", "IsPresent": false}),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            h(
                json!({"And": [{"Variable": "$.Ready", "BooleanEquals": true},
                               {"Not": {"Variable": "$.Method", "StringEquals": "lime"}}]}),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            h(
                json!({"Or": [{"Variable": "$.Ready", "BooleanEquals": false},
                              {"Variable": "$.Method", "StringMatches": "k*r\\*"}]}),
                json!({"Ready": true, "Method": "kcor*"})
            )
            .unwrap()
        );
        let missing = h(
            json!({"Variable": "$.Gone", "BooleanEquals": true}),
            input.clone(),
        )
        .unwrap_err();
        assert_eq!(missing.error, "States.Runtime");
        assert!(missing.cause.contains("$.Gone"), "{missing:?}");
        assert!(h(json!({"Variable": "$.Count", "Approximately": 3}), input).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("log-*.txt", "log-2026.txt"));
        assert!(wildcard("*", ""));
        assert!(wildcard("a*b*c", "abc"));
        assert!(!wildcard("a*b*c", "acb"));
        assert!(!wildcard("exact", "exactly"));
    }
}
