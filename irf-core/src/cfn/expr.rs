//! Values that may be literals or CloudFormation intrinsic functions.
//!
//! [`Expr`] serializes intrinsics in YAML short form (`!Ref`, `!GetAtt`, `!Sub`, ...). YAML gives a
//! node one tag only, so a short-form function whose direct argument is itself a short-form
//! function (`!Base64 !Sub ...`) is written in long form (`Fn::Base64: !Sub ...`); inside
//! sequences short forms nest freely (`!Select [0, !GetAZs '']`).

use indexmap::IndexMap;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_saphyr::{FlowSeq, Tagged};

/// A literal or intrinsic-function value in a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A boolean literal.
    Bool(bool),
    /// A list of values.
    List(Vec<Expr>),
    /// A mapping with keys in insertion order (for free-form JSON such as event patterns).
    Map(IndexMap<String, Expr>),
    /// `!Ref name`.
    Ref(String),
    /// `!GetAtt resource.attribute`.
    GetAtt(String, String),
    /// `!Sub 'template'`.
    Sub(String),
    /// `!Sub ['template', {var: value}]`.
    SubWith(String, IndexMap<String, Expr>),
    /// `!Join [delimiter, [values]]`.
    Join(String, Vec<Expr>),
    /// `!Select [index, list]`.
    Select(u32, Box<Expr>),
    /// `!GetAZs region` (empty string: the stack's region).
    GetAZs(String),
    /// `!Split [delimiter, value]`.
    Split(String, Box<Expr>),
    /// `!If [condition, then, else]`.
    If(String, Box<Expr>, Box<Expr>),
    /// `!Equals [a, b]` (conditions).
    Equals(Box<Expr>, Box<Expr>),
    /// `!Not [condition]` (conditions).
    Not(Box<Expr>),
    /// `!Base64 value`.
    Base64(Box<Expr>),
}

impl Expr {
    /// A string literal.
    pub fn s(s: impl Into<String>) -> Expr {
        Expr::Str(s.into())
    }

    /// `!Ref name`.
    pub fn r#ref(name: impl Into<String>) -> Expr {
        Expr::Ref(name.into())
    }

    /// `!GetAtt resource.attribute`.
    pub fn att(resource: impl Into<String>, attribute: impl Into<String>) -> Expr {
        Expr::GetAtt(resource.into(), attribute.into())
    }

    /// `!GetAtt resource.Arn`, the most common attribute.
    pub fn arn(resource: impl Into<String>) -> Expr {
        Expr::att(resource, "Arn")
    }

    /// `!Sub 'template'`.
    pub fn sub(template: impl Into<String>) -> Expr {
        Expr::Sub(template.into())
    }

    /// `!Join [delimiter, values]`.
    pub fn join(delimiter: impl Into<String>, values: Vec<Expr>) -> Expr {
        Expr::Join(delimiter.into(), values)
    }

    /// `!Select [index, !GetAZs '']`: the index-th availability zone of the stack's region.
    pub fn az(index: u8) -> Expr {
        Expr::Select(u32::from(index), Box::new(Expr::GetAZs(String::new())))
    }

    /// A list of string literals.
    pub fn strs<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Expr {
        Expr::List(items.into_iter().map(|s| Expr::Str(s.into())).collect())
    }

    /// True for intrinsic functions (which serialize as tagged nodes).
    pub fn is_intrinsic(&self) -> bool {
        !matches!(
            self,
            Expr::Str(_) | Expr::Int(_) | Expr::Bool(_) | Expr::List(_) | Expr::Map(_)
        )
    }

    /// The value as a fragment of a `!Sub` template, when it can be one: literals are escaped,
    /// `Ref` and `GetAtt` become `${...}`, a plain `Sub` is inlined.
    pub fn to_sub_fragment(&self) -> Option<String> {
        match self {
            Expr::Str(s) => Some(s.replace("${", "${!")),
            Expr::Int(i) => Some(i.to_string()),
            Expr::Bool(b) => Some(b.to_string()),
            Expr::Ref(name) => Some(format!("${{{name}}}")),
            Expr::GetAtt(r, a) => Some(format!("${{{r}.{a}}}")),
            Expr::Sub(t) => Some(t.clone()),
            _ => None,
        }
    }

    /// References (`Ref` and `GetAtt` targets, and `${...}` names in `Sub`) this value makes,
    /// for dependency checks.
    pub fn references(&self, out: &mut Vec<String>) {
        match self {
            Expr::Ref(n) => out.push(n.clone()),
            Expr::GetAtt(r, _) => out.push(r.clone()),
            Expr::Sub(t) => sub_references(t, out),
            Expr::SubWith(t, vars) => {
                let mut names = Vec::new();
                sub_references(t, &mut names);
                out.extend(names.into_iter().filter(|n| !vars.contains_key(n)));
                vars.values().for_each(|v| v.references(out));
            }
            Expr::List(v) | Expr::Join(_, v) => v.iter().for_each(|e| e.references(out)),
            Expr::Map(m) => m.values().for_each(|e| e.references(out)),
            Expr::Select(_, e) | Expr::Split(_, e) | Expr::Not(e) | Expr::Base64(e) => {
                e.references(out);
            }
            Expr::If(_, a, b) | Expr::Equals(a, b) => {
                a.references(out);
                b.references(out);
            }
            Expr::Str(_) | Expr::Int(_) | Expr::Bool(_) | Expr::GetAZs(_) => {}
        }
    }
}

/// Names referenced as `${Name}` or `${Name.Attr}` in a `Sub` template (`${!x}` is a literal).
pub(crate) fn sub_references(template: &str, out: &mut Vec<String>) {
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        if !name.starts_with('!') {
            let base = name.split('.').next().unwrap_or(name);
            out.push(base.to_owned());
        }
        rest = &rest[end + 1..];
    }
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr::Str(s.to_owned())
    }
}

impl From<String> for Expr {
    fn from(s: String) -> Self {
        Expr::Str(s)
    }
}

impl From<&String> for Expr {
    fn from(s: &String) -> Self {
        Expr::Str(s.clone())
    }
}

impl From<bool> for Expr {
    fn from(b: bool) -> Self {
        Expr::Bool(b)
    }
}

impl From<i64> for Expr {
    fn from(i: i64) -> Self {
        Expr::Int(i)
    }
}

impl From<u32> for Expr {
    fn from(i: u32) -> Self {
        Expr::Int(i64::from(i))
    }
}

impl From<Vec<Expr>> for Expr {
    fn from(v: Vec<Expr>) -> Self {
        Expr::List(v)
    }
}

/// Serializes `value` under a short-form tag.
fn tagged<S: Serializer, T: Serialize>(s: S, tag: &str, value: T) -> Result<S::Ok, S::Error> {
    Tagged(value, Some(tag.to_owned())).serialize(s)
}

/// Serializes a one-key long-form map `{ "Fn::Name": value }`.
fn long_form<S: Serializer, T: Serialize>(s: S, name: &str, value: &T) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(name, value)?;
    m.end()
}

/// One element of an intrinsic's argument list.
enum PartValue<'a> {
    Str(&'a str),
    Int(u32),
    Expr(&'a Expr),
    Exprs(&'a [Expr]),
    Vars(&'a IndexMap<String, Expr>),
}

impl Serialize for PartValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PartValue::Str(v) => s.serialize_str(v),
            PartValue::Int(i) => s.serialize_u32(*i),
            PartValue::Expr(e) => e.serialize(s),
            PartValue::Exprs(v) => v.serialize(s),
            PartValue::Vars(v) => v.serialize(s),
        }
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Str(v) => s.serialize_str(v),
            Expr::Int(i) => s.serialize_i64(*i),
            Expr::Bool(b) => s.serialize_bool(*b),
            Expr::List(v) => v.serialize(s),
            Expr::Map(m) => m.serialize(s),
            Expr::Ref(n) => tagged(s, "!Ref", n),
            Expr::GetAtt(r, a) => tagged(s, "!GetAtt", format!("{r}.{a}")),
            Expr::Sub(t) => tagged(s, "!Sub", t),
            Expr::SubWith(t, vars) => tagged(s, "!Sub", [PartValue::Str(t), PartValue::Vars(vars)]),
            Expr::Join(d, v) => tagged(s, "!Join", [PartValue::Str(d), PartValue::Exprs(v)]),
            Expr::Select(i, e) => tagged(
                s,
                "!Select",
                FlowSeq([PartValue::Int(*i), PartValue::Expr(e)]),
            ),
            Expr::GetAZs(r) => tagged(s, "!GetAZs", r),
            Expr::Split(d, e) => tagged(s, "!Split", [PartValue::Str(d), PartValue::Expr(e)]),
            Expr::If(c, a, b) => tagged(
                s,
                "!If",
                [PartValue::Str(c), PartValue::Expr(a), PartValue::Expr(b)],
            ),
            Expr::Equals(a, b) => tagged(s, "!Equals", [PartValue::Expr(a), PartValue::Expr(b)]),
            Expr::Not(c) => tagged(s, "!Not", [PartValue::Expr(c)]),
            Expr::Base64(e) if e.is_intrinsic() => long_form(s, "Fn::Base64", e),
            Expr::Base64(e) => tagged(s, "!Base64", e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(e: &Expr) -> String {
        let mut m = IndexMap::new();
        m.insert("V".to_owned(), e.clone());
        serde_saphyr::to_string(&m).unwrap()
    }

    #[test]
    fn short_forms() {
        assert_eq!(yaml(&Expr::r#ref("Vpc")), "V: !Ref Vpc\n");
        assert_eq!(yaml(&Expr::arn("Key")), "V: !GetAtt Key.Arn\n");
        assert_eq!(
            yaml(&Expr::sub("${AWS::StackName}-x")),
            "V: !Sub ${AWS::StackName}-x\n"
        );
        assert_eq!(yaml(&Expr::az(1)), "V: !Select [1, !GetAZs \"\"]\n");
    }

    #[test]
    fn nested_forms() {
        let j = Expr::join(",", vec![Expr::s("a"), Expr::r#ref("B")]);
        assert_eq!(yaml(&j), "V: !Join\n  - \",\"\n  - - a\n    - !Ref B\n");
        let b = Expr::Base64(Box::new(Expr::sub("x${Y}")));
        assert_eq!(yaml(&b), "V:\n  \"Fn::Base64\": !Sub x${Y}\n");
    }

    #[test]
    fn sub_fragments_and_references() {
        assert_eq!(Expr::s("a${b}").to_sub_fragment().unwrap(), "a${!b}");
        assert_eq!(Expr::arn("Role").to_sub_fragment().unwrap(), "${Role.Arn}");
        let mut refs = Vec::new();
        Expr::sub("arn:${AWS::Partition}:s3:::${Bucket}/${!literal}").references(&mut refs);
        assert_eq!(refs, ["AWS::Partition", "Bucket"]);
    }
}
