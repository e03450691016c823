//! What a notebook shows: [`display`] (Figure as PNG, Table as HTML / Markdown / text,
//! number formatting), [`plot`] (line charts, decision regions, image grids, learning
//! curves), [`checks`] (a gradient check as a table), [`summary`] (long outputs summarised,
//! full data to CSV) and [`helpers`] (the array plumbing notebook cells would otherwise spell out). Imports the core, data and train;
//! nothing else imports it except the prelude.

pub mod checks;
pub mod display;
pub mod plot;
pub mod helpers;
pub mod summary;
