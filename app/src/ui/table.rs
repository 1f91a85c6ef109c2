//! The data table: a table on a desk, labelled cards on a phone (below
//! 700 px each row becomes a card and each cell shows its column's name,
//! from `data-label`; see `style/50-tables.css`). Pages declare columns
//! once and never write `<td data-label>` by hand.

use leptos::prelude::*;
use std::sync::Arc;

/// One column: its header and how a row draws its cell.
pub struct Column<T> {
    pub header: &'static str,
    /// Extra class on the cell (`num` for right-aligned figures).
    pub class: &'static str,
    pub cell: Arc<dyn Fn(&T) -> AnyView + Send + Sync>,
}

impl<T> Clone for Column<T> {
    fn clone(&self) -> Self {
        Self {
            header: self.header,
            class: self.class,
            cell: Arc::clone(&self.cell),
        }
    }
}

impl<T> Column<T> {
    pub fn new<V: IntoView + 'static>(
        header: &'static str,
        cell: impl Fn(&T) -> V + Send + Sync + 'static,
    ) -> Self {
        Self {
            header,
            class: "",
            cell: Arc::new(move |row| cell(row).into_any()),
        }
    }

    pub fn class(mut self, class: &'static str) -> Self {
        self.class = class;
        self
    }
}

/// `rows` drawn under `columns`; `label` names the table for screen readers;
/// `class` adds to `data-table` (for a page's own column widths).
#[component]
pub fn DataTable<T>(
    #[prop(into)] label: String,
    #[prop(optional)] class: &'static str,
    columns: Vec<Column<T>>,
    rows: Vec<T>,
) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    let heads = columns
        .iter()
        .map(|c| view! { <th scope="col">{c.header}</th> })
        .collect_view();
    let body = rows
        .iter()
        .map(|row| {
            let cells = columns
                .iter()
                .map(|c| {
                    let class = (!c.class.is_empty()).then_some(c.class);
                    view! { <td class=class data-label=c.header>{(c.cell)(row)}</td> }
                })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    let class = if class.is_empty() {
        "data-table".to_owned()
    } else {
        format!("data-table {class}")
    };
    view! {
        <div class="table-wrap">
            <table class=class aria-label=label>
                <thead><tr>{heads}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}
