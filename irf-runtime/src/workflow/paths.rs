//! The data flow of Amazon States Language as the IRF workflows use it: reference paths
//! (`$`, `$.A.B`, `$$.Map.Item.Value`), payload templates (`"Key.$": path or intrinsic`),
//! `ResultPath`, and the intrinsic functions `States.Format`, `States.MathAdd`,
//! `States.ArrayLength` and `States.JsonToString`.
//!
//! Anything outside that subset is a [`Failure::runtime`] naming the expression, never a silent
//! guess: the workflows' definitions are typed, so a test running each of them here proves the
//! subset covers them.

use serde_json::{Map, Value};

use super::Failure;

/// Splits a reference path into its root (`$` or `$$`) and field names.
fn parse(path: &str) -> Result<(bool, Vec<&str>), Failure> {
    let (context, rest) = if let Some(r) = path.strip_prefix("$$") {
        (true, r)
    } else if let Some(r) = path.strip_prefix('$') {
        (false, r)
    } else {
        return Err(Failure::runtime(format!(
            "{path:?} is not a reference path (it must start with $)"
        )));
    };
    if rest.is_empty() {
        return Ok((context, Vec::new()));
    }
    let Some(fields) = rest.strip_prefix('.') else {
        return Err(Failure::runtime(format!(
            "{path:?}: only dotted field names are supported after $"
        )));
    };
    let fields: Vec<&str> = fields.split('.').collect();
    if fields
        .iter()
        .any(|f| f.is_empty() || f.contains(['[', ']', '*', '(', ')', '@', '?', ' ']))
    {
        return Err(Failure::runtime(format!(
            "{path:?}: only dotted field names are supported after $"
        )));
    }
    Ok((context, fields))
}

/// The value at `path` in `input` (or, for `$$…`, in `context`); a missing field is the
/// runtime error Step Functions raises.
pub(crate) fn get(path: &str, input: &Value, context: &Value) -> Result<Value, Failure> {
    let (in_context, fields) = parse(path)?;
    let mut at = if in_context { context } else { input };
    for f in &fields {
        at = at.get(*f).ok_or_else(|| {
            Failure::runtime(format!(
                "the JSONPath {path:?} could not be found in the {}",
                if in_context {
                    "context object"
                } else {
                    "input"
                }
            ))
        })?;
    }
    Ok(at.clone())
}

/// The value at `path`, or `None` when a field on the way is missing (Choice's `IsPresent`).
pub(crate) fn lookup(path: &str, input: &Value, context: &Value) -> Result<Option<Value>, Failure> {
    match get(path, input, context) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.cause.contains("could not be found") => Ok(None),
        Err(e) => Err(e),
    }
}

/// `input` with `result` placed at `result_path`: `None` (the default) and `$` replace the
/// input, `"null"` discards the result, `$.A.B` sets the field, creating objects on the way.
pub(crate) fn place(
    result_path: Option<&str>,
    input: &Value,
    result: Value,
) -> Result<Value, Failure> {
    let path = match result_path {
        None | Some("$") => return Ok(result),
        Some("null") => return Ok(input.clone()),
        Some(p) => p,
    };
    let (in_context, fields) = parse(path)?;
    if in_context {
        return Err(Failure::runtime(format!(
            "ResultPath {path:?} cannot point into the context object"
        )));
    }
    let mut out = input.clone();
    let mut at = &mut out;
    for (i, f) in fields.iter().enumerate() {
        let Value::Object(map) = at else {
            return Err(Failure::new(
                "States.ResultPathMatchFailure",
                format!("ResultPath {path:?}: the value before {f:?} is not an object"),
            ));
        };
        if i + 1 == fields.len() {
            map.insert((*f).to_owned(), result);
            return Ok(out);
        }
        at = map
            .entry((*f).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    unreachable!("a path with fields ends in the loop")
}

/// A payload template evaluated against the state's input: every `"Key.$"` field becomes `Key`
/// with the value of its path or intrinsic function; everything else is copied.
pub(crate) fn template(t: &Value, input: &Value, context: &Value) -> Result<Value, Failure> {
    Ok(match t {
        Value::Object(fields) => {
            let mut out = Map::new();
            for (k, v) in fields {
                if let Some(name) = k.strip_suffix(".$") {
                    let expr = v.as_str().ok_or_else(|| {
                        Failure::runtime(format!("the value of {k:?} is not a string"))
                    })?;
                    out.insert(name.to_owned(), expression(expr, input, context)?);
                } else {
                    out.insert(k.clone(), template(v, input, context)?);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| template(i, input, context))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// A path or an intrinsic function call.
fn expression(expr: &str, input: &Value, context: &Value) -> Result<Value, Failure> {
    if expr.starts_with('$') {
        return get(expr, input, context);
    }
    let Some(open) = expr.find('(') else {
        return Err(Failure::runtime(format!(
            "{expr:?} is neither a path nor an intrinsic function"
        )));
    };
    let name = &expr[..open];
    let inner = expr[open + 1..].strip_suffix(')').ok_or_else(|| {
        Failure::runtime(format!(
            "{expr:?}: the intrinsic function call is not closed"
        ))
    })?;
    let args = arguments(inner)?
        .into_iter()
        .map(|a| match a {
            Argument::Path(p) => get(&p, input, context),
            Argument::Literal(v) => Ok(v),
        })
        .collect::<Result<Vec<_>, _>>()?;
    intrinsic(name, &args)
        .map_err(|why| Failure::new("States.IntrinsicFailure", format!("{expr}: {why}")))
}

/// One argument of an intrinsic function.
#[derive(Debug, PartialEq)]
enum Argument {
    Path(String),
    Literal(Value),
}

/// Splits an argument list: single-quoted strings (with `\'`, `\\`, `\{`, `\}` escapes),
/// numbers, booleans, `null` and paths.
fn arguments(list: &str) -> Result<Vec<Argument>, Failure> {
    let mut out = Vec::new();
    let mut chars = list.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Ok(out);
        };
        if first == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => {
                        return Err(Failure::runtime(format!("unterminated string in ({list})")));
                    }
                    Some('\\') => match chars.next() {
                        Some(c) => {
                            // `\{` and `\}` stay escaped for States.Format, which unescapes them.
                            if matches!(c, '{' | '}') {
                                s.push('\\');
                            }
                            s.push(c);
                        }
                        None => return Err(Failure::runtime(format!("dangling \\ in ({list})"))),
                    },
                    Some('\'') => break,
                    Some(c) => s.push(c),
                }
            }
            out.push(Argument::Literal(Value::String(s)));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            let word = word.trim();
            out.push(if word.starts_with('$') {
                Argument::Path(word.to_owned())
            } else {
                Argument::Literal(serde_json::from_str(word).map_err(|_| {
                    Failure::runtime(format!("{word:?} is not an argument in ({list})"))
                })?)
            });
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Ok(out),
            Some(',') => {}
            Some(c) => return Err(Failure::runtime(format!("unexpected {c:?} in ({list})"))),
        }
    }
}

/// Runs an intrinsic function on evaluated arguments.
fn intrinsic(name: &str, args: &[Value]) -> Result<Value, String> {
    match (name, args) {
        ("States.Format", [Value::String(format), rest @ ..]) => format_string(format, rest),
        ("States.MathAdd", [a, b]) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a
                .checked_add(b)
                .map(Value::from)
                .ok_or_else(|| "the sum overflows".to_owned()),
            _ => Err(format!("MathAdd takes two integers, not {a} and {b}")),
        },
        ("States.ArrayLength", [Value::Array(items)]) => Ok(items.len().into()),
        ("States.JsonToString", [v]) => Ok(Value::String(v.to_string())),
        ("States.Format" | "States.MathAdd" | "States.ArrayLength" | "States.JsonToString", _) => {
            Err(format!("wrong arguments: {args:?}"))
        }
        _ => Err(format!("{name} is not supported by the local executor")),
    }
}

/// `States.Format`: each `{}` takes the next argument (strings as they are, anything else as
/// JSON); `\{` and `\}` are literal braces.
fn format_string(format: &str, args: &[Value]) -> Result<Value, String> {
    let mut out = String::with_capacity(format.len());
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                match args.next() {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(v) => out.push_str(&v.to_string()),
                    None => return Err("more {} than arguments".to_owned()),
                }
            }
            c => out.push(c),
        }
    }
    if args.next().is_some() {
        return Err("more arguments than {}".to_owned());
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_fields_and_name_what_is_missing() {
        let input = json!({"A": {"B": 1}});
        let ctx = json!({"Map": {"Item": {"Value": "x"}}});
        assert_eq!(get("$", &input, &ctx).unwrap(), input);
        assert_eq!(get("$.A.B", &input, &ctx).unwrap(), json!(1));
        assert_eq!(get("$$.Map.Item.Value", &input, &ctx).unwrap(), json!("x"));
        let e = get("$.A.C", &input, &ctx).unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert!(e.cause.contains("\"$.A.C\" could not be found"), "{e:?}");
        assert_eq!(lookup("$.A.C", &input, &ctx).unwrap(), None);
        assert!(
            get("$.A[0]", &input, &ctx)
                .unwrap_err()
                .cause
                .contains("dotted")
        );
    }

    #[test]
    fn result_paths_replace_discard_or_set() {
        let input = json!({"A": {"B": 1}});
        assert_eq!(place(None, &input, json!(2)).unwrap(), json!(2));
        assert_eq!(place(Some("null"), &input, json!(2)).unwrap(), input);
        assert_eq!(
            place(Some("$.A.C.D"), &input, json!(2)).unwrap(),
            json!({"A": {"B": 1, "C": {"D": 2}}})
        );
        let e = place(Some("$.A.B.C"), &input, json!(2)).unwrap_err();
        assert_eq!(e.error, "States.ResultPathMatchFailure");
    }

    #[test]
    fn templates_evaluate_paths_and_intrinsics() {
        let input = json!({"Case": {"id": 1}, "Polls": {"Count": 2}, "Why": "pending"});
        let t = json!({
            "Action": "Check",
            "Case.$": "$.Case",
            "Nested": {"Count.$": "States.MathAdd($.Polls.Count, 1)"},
            "Cause.$": "States.Format('not ready after {} checks: {} \\{ok\\}', $.Polls.Count, $.Why)",
            "List": [{"Len.$": "States.ArrayLength($.Items)"}],
        });
        let e = template(&t, &input, &Value::Null).unwrap_err();
        assert!(e.cause.contains("$.Items"), "{e:?}");
        let input = {
            let mut i = input;
            i["Items"] = json!([1, 2, 3]);
            i
        };
        assert_eq!(
            template(&t, &input, &Value::Null).unwrap(),
            json!({
                "Action": "Check",
                "Case": {"id": 1},
                "Nested": {"Count": 3},
                "Cause": "not ready after 2 checks: pending {ok}",
                "List": [{"Len": 3}],
            })
        );
    }

    #[test]
    fn intrinsic_misuse_is_an_intrinsic_failure() {
        let e = template(
            &json!({"X.$": "States.MathAdd($.A, 1)"}),
            &json!({"A": "one"}),
            &Value::Null,
        )
        .unwrap_err();
        assert_eq!(e.error, "States.IntrinsicFailure");
        let e = template(
            &json!({"X.$": "States.Hash($, 'SHA-256')"}),
            &json!({}),
            &Value::Null,
        )
        .unwrap_err();
        assert!(e.cause.contains("not supported"), "{e:?}");
        assert_eq!(
            arguments("'a, \\'b\\'', 3, $.x , true").unwrap(),
            [
                Argument::Literal(json!("a, 'b'")),
                Argument::Literal(json!(3)),
                Argument::Path("$.x".into()),
                Argument::Literal(json!(true)),
            ]
        );
    }
}
