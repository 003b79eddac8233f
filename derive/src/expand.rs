//! What `#[derive(ZeroCopySafe)]` writes for a struct: the `unsafe impl`
//! with its `TYPE_NAME`, `FIELDS` and `DESCRIPTION`, and the compile-time checks that make
//! the impl sound.
//!
//! The checks live in a `const _: () = { ... };` item after the impl:
//!
//! - every field's type must be `ZeroCopySafe`: a call of a `const fn` with
//!   that bound, spanned on the field, so the compiler's error points at the
//!   field and names it (`field_<name>_must_be_zero_copy_safe`);
//! - no padding: in declaration order (which `repr(C)` keeps), each field
//!   starts where the previous one ends, and the type ends where its last
//!   field ends; a failed `assert!` names the field the padding follows and
//!   is spanned on it.
//!   Padding bytes hold whatever the publisher's stack or chunk held before,
//!   and would be shared with every subscriber;
//! - the size fits in the `u32` offsets of `FieldInfo`;
//! - no drop glue (`core::mem::needs_drop`): the fields, being
//!   `ZeroCopySafe`, have none, so this catches a `Drop` impl on the type.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, Member, Type};

use crate::{repr, type_name, type_text};

/// One field: how to name it in `offset_of!`, its display name and type.
struct Field<'a> {
    member: Member,
    name: String,
    ty: &'a Type,
    span: Span,
}

/// The whole expansion, or the first reason the type is refused.
pub(crate) fn derive(input: &DeriveInput) -> Result<TokenStream, Error> {
    let fields = struct_fields(input)?;
    repr::check(&input.attrs, input.ident.span())?;
    refuse_generics(input)?;
    let name = type_name::of(&input.attrs, &input.ident)?;
    let ident = &input.ident;
    let infos = fields.iter().map(|f| field_info(ident, f));
    let descriptions = fields.iter().map(|f| field_description(ident, f));
    let checks = checks(ident, &fields);
    Ok(quote! {
        // SAFETY: the checks below hold at compile time: the type is
        // repr(C) or repr(transparent), every field is ZeroCopySafe (so has
        // no pointers, no drop glue, and any bits a publisher writes are
        // valid), there is no padding between or after the fields, and the
        // type itself has no Drop impl.
        #[automatically_derived]
        unsafe impl ::zerocp::ZeroCopySafe for #ident {
            const TYPE_NAME: &'static str = #name;
            const FIELDS: &'static [::zerocp::FieldInfo] = &[#(#infos),*];
            const DESCRIPTION: ::zerocp::type_layout::TypeDescription =
                ::zerocp::type_layout::TypeDescription::Struct(&[#(#descriptions),*]);
        }
        #checks
    })
}

/// The fields of a struct, in declaration order; enums and unions refused.
fn struct_fields(input: &DeriveInput) -> Result<Vec<Field<'_>>, Error> {
    let data = match &input.data {
        Data::Struct(data) => data,
        Data::Enum(e) => {
            return Err(Error::new(
                e.enum_token.span,
                "#[derive(ZeroCopySafe)] is for structs only, not enums: a subscriber \
                 would trust a discriminant any publisher can write; use an integer code",
            ));
        }
        Data::Union(u) => {
            return Err(Error::new(
                u.union_token.span,
                "#[derive(ZeroCopySafe)] is for structs only, not unions: which field \
                 is valid cannot be checked; write the unsafe impl by hand",
            ));
        }
    };
    let fields = match &data.fields {
        Fields::Named(named) => named.named.iter().collect(),
        Fields::Unnamed(unnamed) => unnamed.unnamed.iter().collect(),
        Fields::Unit => Vec::new(),
    };
    Ok(fields
        .into_iter()
        .enumerate()
        .map(|(index, field)| {
            let member = field
                .ident
                .clone()
                .map_or_else(|| Member::from(index), Member::Named);
            // `r#type` is the field `type`: its name, and a valid part of
            // the check's identifier.
            let name = field
                .ident
                .as_ref()
                .map_or_else(|| index.to_string(), |i| i.unraw().to_string());
            Field {
                member,
                name,
                ty: &field.ty,
                span: field.span(),
            }
        })
        .collect())
}

/// Generic types are refused: the padding checks need concrete sizes.
fn refuse_generics(input: &DeriveInput) -> Result<(), Error> {
    if input.generics.params.is_empty() && input.generics.where_clause.is_none() {
        return Ok(());
    }
    Err(Error::new(
        input.generics.span(),
        "#[derive(ZeroCopySafe)] does not take generic types: the padding check \
         needs each field's size at compile time; derive it for a concrete type \
         or write the unsafe impl by hand",
    ))
}

/// `FieldInfo { .. }` of one field.
fn field_info(ident: &syn::Ident, field: &Field<'_>) -> TokenStream {
    let Field {
        member, name, ty, ..
    } = field;
    let type_text = type_text::of(ty);
    quote! {
        ::zerocp::FieldInfo {
            name: #name,
            type_name: #type_text,
            offset: ::core::mem::offset_of!(#ident, #member) as u32,
            size: ::core::mem::size_of::<#ty>() as u32,
        }
    }
}

/// `FieldDescription { .. }` of one field: its offset and size, and its
/// type's own description (a nested derived struct's fields, a primitive's
/// kind), which the runtime flattens with dotted names.
fn field_description(ident: &syn::Ident, field: &Field<'_>) -> TokenStream {
    let Field {
        member, name, ty, ..
    } = field;
    quote! {
        ::zerocp::type_layout::FieldDescription {
            name: #name,
            offset: ::core::mem::offset_of!(#ident, #member) as u32,
            size: ::core::mem::size_of::<#ty>() as u32,
            description: &<#ty as ::zerocp::ZeroCopySafe>::DESCRIPTION,
        }
    }
}

/// The `const _` item with the field, padding and size checks.
fn checks(ident: &syn::Ident, fields: &[Field<'_>]) -> TokenStream {
    let field_checks = fields.iter().map(|f| {
        let check = format_ident!("field_{}_must_be_zero_copy_safe", f.name);
        let ty = f.ty;
        quote_spanned! {f.span=>
            #[allow(non_snake_case)]
            const fn #check<T: ::zerocp::ZeroCopySafe>() {}
            #check::<#ty>();
        }
    });
    let padding = fields.windows(2).map(|pair| {
        let (prev, next) = (&pair[0], &pair[1]);
        let (prev_member, prev_ty, next_member) = (&prev.member, prev.ty, &next.member);
        let message = format!(
            "#[derive(ZeroCopySafe)]: `{ident}` has padding after field `{}`; \
             add an explicit field (e.g. `_pad: [u8; N]`) or reorder the fields",
            prev.name
        );
        quote_spanned! {prev.span=>
            assert!(
                ::core::mem::offset_of!(#ident, #next_member)
                    == ::core::mem::offset_of!(#ident, #prev_member) + ::core::mem::size_of::<#prev_ty>(),
                #message
            );
        }
    });
    let trailing = fields.last().map(|last| {
        let (member, ty) = (&last.member, last.ty);
        let message = format!(
            "#[derive(ZeroCopySafe)]: `{ident}` has padding after field `{}`, at its end; \
             add an explicit field (e.g. `_pad: [u8; N]`) or reorder the fields",
            last.name
        );
        quote_spanned! {last.span=>
            assert!(
                ::core::mem::size_of::<#ident>()
                    == ::core::mem::offset_of!(#ident, #member) + ::core::mem::size_of::<#ty>(),
                #message
            );
        }
    });
    let too_large = format!(
        "#[derive(ZeroCopySafe)]: `{ident}` is larger than u32::MAX bytes, which no chunk holds"
    );
    let has_drop = format!(
        "#[derive(ZeroCopySafe)]: `{ident}` implements Drop: no process may run code on \
         memory other processes read; remove the Drop impl"
    );
    let no_drop = quote_spanned! {ident.span()=>
        assert!(!::core::mem::needs_drop::<#ident>(), #has_drop);
    };
    quote! {
        const _: () = {
            #(#field_checks)*
            #(#padding)*
            #trailing
            assert!(::core::mem::size_of::<#ident>() as u64 <= u32::MAX as u64, #too_large);
            #no_drop
        };
    }
}
