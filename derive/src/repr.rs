//! The `#[repr]` check: a derived type must have a layout every process
//! agrees on, `repr(C)` or `repr(transparent)`; Rust's own layout may differ
//! between builds, so two programs could read the same bytes differently.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Error, Meta, Token};

/// Returns `Ok` when `attrs` hold `#[repr(C)]` or `#[repr(transparent)]`
/// (possibly with other hints, e.g. `repr(C, align(8))`); otherwise an error
/// that says which repr was found, spanned on its first hint (or on the
/// type's name when there is none).
pub(crate) fn check(attrs: &[Attribute], name_span: Span) -> Result<(), Error> {
    let mut found = Vec::new();
    let mut first_span = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let hints = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
        for hint in hints {
            let path = hint.path();
            if path.is_ident("C") || path.is_ident("transparent") {
                return Ok(());
            }
            first_span.get_or_insert(hint.span());
            found.push(quote::ToTokens::to_token_stream(&hint).to_string());
        }
    }
    let message = if found.is_empty() {
        "#[derive(ZeroCopySafe)] needs #[repr(C)] or #[repr(transparent)]: \
         the type has no #[repr], and Rust's own layout may differ between builds"
            .to_owned()
    } else {
        format!(
            "#[derive(ZeroCopySafe)] needs #[repr(C)] or #[repr(transparent)], found #[repr({})]: \
             only these two give a layout every process agrees on",
            found.join(", ")
        )
    };
    Err(Error::new(first_span.unwrap_or(name_span), message))
}
