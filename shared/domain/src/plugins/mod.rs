//! Plugins: the catalogue in the table, per-project instances and their configurations, and
//! how both read as lists.
//!
//! | Module | What |
//! |---|---|
//! | [`catalogue`] | catalogue rows and plugin events: `dispatch plugins install/uninstall` |
//! | `catalogue_index` | the catalogue rows in GSI1: the whole catalogue in one Query |
//! | [`backfill`] | instances for projects that lack some, after an install |
//! | [`instances`] | instance items, the one-enabled-per-type guard, `get_active_instance`, delete |
//! | [`changes`] | creating and updating instances (configuration validated and sealed) |
//! | [`reads`] | the views clients get, one instance or a list page |
//! | [`recent`] | catalogue rows read lately, which instances pages need not read again |
//! | [`lists`] | the list specs of the catalogue, instances and events |

pub mod backfill;
pub mod catalogue;
mod catalogue_index;
pub mod changes;
pub mod instances;
pub mod lists;
pub mod reads;
pub mod recent;

pub use lists::{INSTANCES_INDEX_SINCE, catalogue_list_spec, event_list_spec, instance_list_spec};
pub use recent::RecentPlugins;
