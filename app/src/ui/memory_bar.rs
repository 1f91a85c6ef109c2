//! The one memory bar: a host's memory drawn to scale as the paper's eq. (1)
//! and (2) see it — host OS (`y_os`) | existing VMs | planned VMs | free —
//! with whatever breaks eq. (1) drawn red and hatched beyond the host's
//! memory. The layout editor, the host pages and the dashboard all use it,
//! so a bar means the same everywhere.

use leptos::prelude::*;

/// A host's memory as a bar shows it, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryUse {
    /// `y`: the host's memory.
    pub total: u64,
    /// `y_os`: kept for the host's operating system.
    pub os: u64,
    /// VMs already on the host.
    pub existing: u64,
    /// VMs a layout would add.
    pub planned: u64,
}

/// One drawn part of the bar: its CSS class, its size in MiB and its share
/// of the bar in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub class: &'static str,
    pub mib: u64,
    pub percent: f64,
}

impl MemoryUse {
    /// `y_a = y − y_os` (eq. 2).
    pub fn available(&self) -> u64 {
        self.total.saturating_sub(self.os)
    }

    /// What the VMs ask for.
    pub fn used(&self) -> u64 {
        self.existing.saturating_add(self.planned)
    }

    /// How far eq. (1) is broken (0 when it holds).
    pub fn over_by(&self) -> u64 {
        self.used().saturating_sub(self.available())
    }

    pub fn free(&self) -> u64 {
        self.available().saturating_sub(self.used())
    }

    /// The bar's length: the host's memory, or more when the VMs overflow it.
    fn scale(&self) -> u64 {
        self.total.max(self.os.saturating_add(self.used()))
    }

    /// The parts in drawing order. Within `y_a` come the existing VMs then
    /// the planned ones; what does not fit is one red part after them.
    pub fn segments(&self) -> Vec<Segment> {
        let avail = self.available();
        let existing_in = self.existing.min(avail);
        let planned_in = self.planned.min(avail - existing_in);
        let scale = self.scale();
        let seg = |class, mib: u64| Segment {
            class,
            mib,
            percent: if scale == 0 {
                0.0
            } else {
                mib as f64 * 100.0 / scale as f64
            },
        };
        vec![
            seg("seg-os", self.os.min(self.total)),
            seg("seg-existing", existing_in),
            seg("seg-planned", planned_in),
            seg("seg-over", self.over_by()),
            seg("seg-free", self.free()),
        ]
    }

    /// The bar in words, for its accessible name; `with_planned` names the
    /// planned part even when it is zero (the layout editor).
    pub fn describe(&self, with_planned: bool) -> String {
        let mut parts = vec![
            format!("host OS {} MiB", self.os),
            format!("existing VMs {} MiB", self.existing),
        ];
        if with_planned || self.planned > 0 {
            parts.push(format!("planned {} MiB", self.planned));
        }
        let tail = if self.over_by() > 0 {
            format!(
                "over by {} MiB: y_a = {} MiB of {} MiB",
                self.over_by(),
                self.available(),
                self.total
            )
        } else {
            format!("{} MiB free of {} MiB", self.free(), self.total)
        };
        parts.push(tail);
        parts.join(" · ")
    }
}

/// The bar with its numbers beside it. `name` starts the accessible name
/// ("Memory of demo"); `show_planned` adds the planned part to the legend
/// (the layout editor), which pages without a plan leave out.
#[component]
pub fn MemoryBar(
    usage: MemoryUse,
    #[prop(into)] name: String,
    #[prop(optional)] show_planned: bool,
) -> impl IntoView {
    let over = usage.over_by() > 0;
    let label = format!("{name}: {}", usage.describe(show_planned));
    let marker = (over && usage.scale() > 0).then(|| {
        format!(
            "left:{:.3}%",
            usage.total as f64 * 100.0 / usage.scale() as f64
        )
    });
    let key = |class: &'static str, text: String| {
        view! { <li><span class=format!("key key-{class}") aria-hidden="true"></span>{text}</li> }
    };
    view! {
        <div class="memory-bar">
            <div
                class=if over { "layout-bar over" } else { "layout-bar" }
                role="img"
                aria-label=label.clone()
                title=label
                data-total=usage.total
            >
                {usage
                    .segments()
                    .into_iter()
                    .map(|s| {
                        view! {
                            <span
                                class=format!("seg {}", s.class)
                                data-mib=s.mib
                                style=format!("width:{:.3}%", s.percent)
                            ></span>
                        }
                    })
                    .collect_view()}
                {marker.map(|m| view! { <span class="bar-limit" style=m aria-hidden="true"></span> })}
            </div>
            <ul class="bar-legend" aria-hidden="true">
                {key("os", format!("host OS {} MiB", usage.os))}
                {key("existing", format!("existing VMs {} MiB", usage.existing))}
                {show_planned.then(|| key("planned", format!("planned {} MiB", usage.planned)))}
                {if over {
                    key("over", format!("over by {} MiB", usage.over_by()))
                } else {
                    key("free", format!("free {} of {} MiB", usage.free(), usage.total))
                }}
            </ul>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(existing: u64, planned: u64) -> MemoryUse {
        MemoryUse {
            total: 32768,
            os: 2048,
            existing,
            planned,
        }
    }

    #[test]
    fn segments_are_shares_of_the_host_memory_when_it_fits() {
        let u = paper(3536, 19216);
        let s = u.segments();
        let mib: Vec<u64> = s.iter().map(|s| s.mib).collect();
        assert_eq!(mib, [2048, 3536, 19216, 0, 32768 - 2048 - 3536 - 19216]);
        assert!((s.iter().map(|s| s.percent).sum::<f64>() - 100.0).abs() < 1e-9);
        assert!((s[0].percent - 6.25).abs() < 1e-9);
        assert_eq!(u.over_by(), 0);
        assert!(u.describe(false).ends_with("7968 MiB free of 32768 MiB"));
    }

    #[test]
    fn overflow_is_its_own_part_beyond_the_host() {
        // y_a = 30720; 30000 + 2000 = 32000 → 1280 over.
        let u = paper(30000, 2000);
        let s = u.segments();
        assert_eq!(s[1].mib, 30000);
        assert_eq!(s[2].mib, 720);
        assert_eq!(s[3].mib, 1280);
        assert_eq!(s[4].mib, 0);
        // Drawn to the scale of everything asked: 2048 + 32000.
        assert!((s[3].percent - 1280.0 * 100.0 / 34048.0).abs() < 1e-9);
        assert!(u.describe(true).contains("over by 1280 MiB"));
    }

    #[test]
    fn an_unknown_host_draws_nothing() {
        let s = MemoryUse::default().segments();
        assert!(s.iter().all(|s| s.percent == 0.0));
    }
}
