//! The stable name a derived type gives the daemon: `#[zerocp(type_name =
//! "...")]` when present, else the type's own name without its module path.
//!
//! The daemon compares size, alignment and this name between every
//! publisher and subscriber of a service. A name without the module path
//! lets two programs share a type that each declares in its own crate or
//! module (the usual case: a message definition copied, or generated, into
//! each program); the attribute gives a name that avoids a clash between two
//! unrelated types of the same name (e.g. `"robot::Pose"`).

use syn::{Attribute, Error, Ident, LitStr};

/// The name for `TYPE_NAME`: the `type_name` of the `#[zerocp(...)]`
/// attribute, else `ident` as written. Any other key in `#[zerocp(...)]`,
/// a repeated key, or an empty name is an error.
pub(crate) fn of(attrs: &[Attribute], ident: &Ident) -> Result<String, Error> {
    let mut name: Option<LitStr> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("zerocp")) {
        attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("type_name") {
                return Err(
                    meta.error("unknown #[zerocp] key: the only key is `type_name = \"...\"`")
                );
            }
            if name.is_some() {
                return Err(meta.error("`type_name` given twice"));
            }
            let value: LitStr = meta.value()?.parse()?;
            if value.value().is_empty() {
                return Err(Error::new(
                    value.span(),
                    "`type_name` must not be empty (an empty name means the Rust path)",
                ));
            }
            name = Some(value);
            Ok(())
        })?;
    }
    Ok(name.map_or_else(|| ident.to_string(), |n| n.value()))
}
