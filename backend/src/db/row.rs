//! Reading rows by column name on either database.
//!
//! [`row_struct!`] declares a struct and implements [`sqlx::FromRow`] for it, one column per
//! field by the field's name: what `#[derive(sqlx::FromRow)]` does, without compiling sqlx's
//! macro crate, which brings a second copy of both database drivers into every build.

/// Declares a row struct whose fields are read from the columns of the same names.
macro_rules! row_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[doc = $doc:literal])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[doc = $doc])* $field_vis $field: $ty, )*
        }

        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $name
        where
            &'r str: sqlx::ColumnIndex<R>,
            $( $ty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>, )*
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                Ok(Self {
                    $( $field: sqlx::Row::try_get(row, stringify!($field))?, )*
                })
            }
        }
    };
}
pub(crate) use row_struct;

/// Binds and reads a newtype as the value it wraps (what `#[sqlx(transparent)]` does).
macro_rules! transparent_type {
    ($name:ident($inner:ty)) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            $inner: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <$inner as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <$inner as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            $inner: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <$inner as sqlx::Encode<'q, DB>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            $inner: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <$inner as sqlx::Decode<'r, DB>>::decode(value).map($name)
            }
        }
    };
}
pub(crate) use transparent_type;
