//! Exchange rates for subscription metrics: the administrators' CSV ([`csv`]), the rates a
//! series converts with ([`convert`]), and the daily rates a provider serves ([`daily`]).

pub mod convert;
pub mod csv;
pub mod daily;
