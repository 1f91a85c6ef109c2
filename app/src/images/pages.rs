//! A host's image library (`/hosts/{id}/images`): the images with their
//! kind, size and SHA-256; operators upload, fetch, rename and delete.
//!
//! The upload is a plain `XMLHttpRequest` with the file as its body, so
//! the browser streams it from disk and reports its progress; the page
//! shows the bar, then the SHA-256 the server computed (and checked
//! against the one typed, if any). Its errors land by their fields as a
//! server function's do. A fetch from an address runs on the server: the
//! page asks for the list while one is under way and draws its bar from
//! the bytes the server has.

use super::{
    human_size, image_library_of, vm_media_of, ChangeMedia, DeleteImage, FetchImage, ImageInfo,
    ImageKind, ImageLibrary, ImageState, RenameImage, VmMedia, UPLOAD_PATH,
};
use crate::auth::Role;
use crate::error::AppError;
use crate::ui::{at_least, field_error, Confirm, Field, FieldError, FormError, PageHeader};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

/// The upload's progress: bytes sent of the total.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Progress {
    sent: f64,
    total: f64,
}

impl Progress {
    fn percent(self) -> u32 {
        if self.total <= 0.0 {
            return 0;
        }
        ((self.sent / self.total) * 100.0).clamp(0.0, 100.0).round() as u32
    }
}

/// One upload's state on the page.
#[derive(Clone, Copy)]
struct UploadState {
    progress: RwSignal<Option<Progress>>,
    result: RwSignal<Option<Result<ImageInfo, AppError>>>,
    busy: RwSignal<bool>,
    /// A fetch from an address, started from the same form.
    fetch: ServerAction<FetchImage>,
    /// Whether the form fetches (kept while the library is read again).
    from_url: RwSignal<bool>,
}

/// How often the list is asked for while the server fetches an image.
#[cfg(feature = "hydrate")]
const POLL: std::time::Duration = std::time::Duration::from_millis(700);

/// Asks for host `host_id`'s images into `live` while any is being
/// fetched; stops when none is, or when the page is gone.
#[cfg(feature = "hydrate")]
fn poll(host_id: i32, live: RwSignal<Option<Vec<ImageInfo>>>) {
    leptos::task::spawn_local(async move {
        let again = match super::images_of(host_id).await {
            Ok(list) => {
                let again = list.iter().any(ImageInfo::fetching);
                if live.try_set(Some(list)).is_some() {
                    return;
                }
                again
            }
            Err(_) => true,
        };
        if again {
            set_timeout(move || poll(host_id, live), POLL);
        }
    });
}

#[component]
pub fn ImagesPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i32>().ok()).unwrap_or(0));
    let rename = ServerAction::<RenameImage>::new();
    let delete = ServerAction::<DeleteImage>::new();
    let upload = UploadState {
        progress: RwSignal::new(None),
        result: RwSignal::new(None),
        busy: RwSignal::new(false),
        fetch: ServerAction::<FetchImage>::new(),
        from_url: RwSignal::new(false),
    };
    let uploaded = RwSignal::new(0u32);
    let library = crate::ui::resource(
        move || {
            (
                id(),
                rename.version().get(),
                delete.version().get(),
                uploaded.get(),
            )
        },
        |(id, ..)| image_library_of(id),
    );
    let action_error = move || {
        [
            rename.value().get().and_then(|r| r.err()),
            delete.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| e.to_string())
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match library.await {
                    Ok(lib) => view! {
                        <LibraryView lib=lib upload=upload uploaded=uploaded rename=rename delete=delete/>
                        {move || action_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    }.into_any(),
                    Err(e) => view! {
                        <section class="page">
                            <PageHeader title="Images"/>
                            <crate::ui::ErrorPanel title="Could not load the images" message=e.to_string()/>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LibraryView(
    lib: ImageLibrary,
    upload: UploadState,
    uploaded: RwSignal<u32>,
    rename: ServerAction<RenameImage>,
    delete: ServerAction<DeleteImage>,
) -> impl IntoView {
    let host_id = lib.host_id;
    let title = format!("Images of {}", lib.host_name);
    let operator = at_least(Role::Operator);
    // The list as the server has it now, while fetches run.
    let live = RwSignal::new(None::<Vec<ImageInfo>>);
    let first = lib.images.clone();
    let images = Signal::derive(move || live.get().unwrap_or_else(|| first.clone()));
    #[cfg(feature = "hydrate")]
    {
        if lib.images.iter().any(ImageInfo::fetching) {
            poll(host_id, live);
        }
        // A fetch just started: follow it.
        let fetch = upload.fetch;
        Effect::new(move |seen: Option<Option<i32>>| {
            let started = fetch.value().get().and_then(|r| r.ok()).map(|img| img.id);
            if started.is_some() && seen.flatten() != started {
                poll(host_id, live);
            }
            started
        });
    }
    view! {
        <section class="page">
            <PageHeader title=title
                summary="Installer ISOs and cloud images in this host's storage pools, for new VMs."/>
            <p><A href=format!("/hosts/{host_id}")>"← Back to the host"</A></p>
            {lib.pools_error.clone().map(|e| view! {
                <div class="panel error-panel" role="alert"><p>{format!("The host's pools could not be read: {e}")}</p></div>
            })}
            {operator.then(|| view! { <UploadForm lib=lib.clone() upload=upload uploaded=uploaded images=images/> })}
            <article class="panel" aria-labelledby="images-title">
                <h2 id="images-title">"Library"</h2>
                {move || { let images = images.get(); if images.is_empty() {
                    view! { <crate::ui::Empty>"No images yet. Upload an installer ISO or a cloud image above."</crate::ui::Empty> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table class="data-table images-table">
                                <thead><tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Kind"</th>
                                    <th scope="col">"Size"</th>
                                    <th scope="col">"SHA-256"</th>
                                    <th scope="col">"Volume"</th>
                                    <th scope="col">"State"</th>
                                    {operator.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                                </tr></thead>
                                <tbody>
                                    {images.into_iter().map(|img| view! {
                                        <ImageRow img=img operator=operator rename=rename delete=delete/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}}
            </article>
        </section>
    }
}

#[component]
fn ImageRow(
    img: ImageInfo,
    operator: bool,
    rename: ServerAction<RenameImage>,
    delete: ServerAction<DeleteImage>,
) -> impl IntoView {
    let short = img.sha256.get(..12).unwrap_or("").to_owned();
    let state = if img.fetching() {
        let percent = percent_of(img.received_bytes, img.size_bytes);
        view! {
            <span class="image-fetching">
                <progress max="100" value=percent aria-label=format!("Fetching {}", img.name)></progress>
                {format!("fetching · {percent} % ({} of {})", human_size(img.received_bytes), human_size(img.size_bytes))}
            </span>
        }
        .into_any()
    } else {
        match img.state {
            ImageState::Ready => "ready".into_any(),
            ImageState::Uploading => "incomplete (upload stopped)".into_any(),
            ImageState::Failed => view! {
                <span class="image-failed">{format!("fetch failed: {}", img.error)}</span>
            }
            .into_any(),
        }
    };
    let source = (!img.source_url.is_empty()).then(|| {
        let from = source_host(&img.source_url);
        view! { <small class="muted image-source" title=img.source_url.clone()>{format!("from {from}")}</small> }
    });
    let (host_id, id, name, ready) = (
        img.host_id,
        img.id,
        img.name.clone(),
        img.state == ImageState::Ready,
    );
    view! {
        <tr>
            <th scope="row" data-label="Name">{img.name.clone()} {source}</th>
            <td data-label="Kind">{img.kind.label()} " · " {img.format.as_str()}</td>
            <td data-label="Size">{human_size(img.size_bytes)}</td>
            <td data-label="SHA-256"><code title=img.sha256.clone()>{short}</code></td>
            <td data-label="Volume">{format!("{} / {}", img.pool, img.volume)}</td>
            <td data-label="State">{state}</td>
            {operator.then(|| view! { <ImageActions host_id=host_id id=id name=name.clone() ready=ready rename=rename delete=delete/> })}
        </tr>
    }
}

/// An image's rename and delete, in its row.
#[component]
fn ImageActions(
    host_id: i32,
    id: i32,
    name: String,
    /// Not ready (arriving, or a failed fetch): only removing it makes
    /// sense, which stops a fetch under way.
    ready: bool,
    rename: ServerAction<RenameImage>,
    delete: ServerAction<DeleteImage>,
) -> impl IntoView {
    let renaming = RwSignal::new(false);
    let rename_id = format!("rename-{id}");
    let rename_error = field_error(rename.value(), "name");
    // A successful rename closes its form.
    Effect::new(move |_| {
        if let Some(Ok(_)) = rename.value().get() {
            renaming.set(false);
        }
    });
    let form = {
        let (rename_id, name) = (rename_id.clone(), name.clone());
        move || {
            let described = format!("{rename_id}-error");
            let (input_id, name) = (rename_id.clone(), name.clone());
            view! {
                <ActionForm action=rename attr:class="inline-form">
                    <input type="hidden" name="host_id" value=host_id/>
                    <input type="hidden" name="id" value=id/>
                    <label for=input_id.clone() class="visually-hidden">"New name"</label>
                    <input id=input_id name="name" value=name required
                        aria-describedby=described.clone()/>
                    <button type="submit" class="button small">"Rename"</button>
                    <button type="button" class="button secondary small"
                        on:click=move |_| renaming.set(false)>"Cancel"</button>
                    <FieldError id=described message=rename_error/>
                </ActionForm>
            }
        }
    };
    let buttons = move || {
        let name = name.clone();
        let (label, what, warning) = if ready {
            (
                "Delete…",
                format!("Delete {name}"),
                "The image's volume is deleted from the pool. Refused while a VM uses it.",
            )
        } else {
            (
                "Remove…",
                format!("Remove {name}"),
                "A fetch under way stops; what arrived of the image is deleted.",
            )
        };
        view! {
            {ready.then(|| view! {
                <button type="button" class="button secondary small"
                    aria-label=format!("Rename {name}…")
                    on:click=move |_| renaming.set(true)>"Rename…"</button>
            })}
            <Confirm label=label what=what small=true warning=warning>
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="host_id" value=host_id/>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="button danger small">{if ready { "Delete" } else { "Remove" }}</button>
                </ActionForm>
            </Confirm>
        }
    };
    view! {
        <td class="row-actions">
            {move || if renaming.get() { form().into_any() } else { buttons().into_any() }}
        </td>
    }
}

/// `key=value&…` with every value percent-encoded.
fn query(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            let mut out = String::new();
            for b in v.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            format!("{k}={out}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `received` of `total` in whole percent.
fn percent_of(received: u64, total: u64) -> u32 {
    if total == 0 {
        return 0;
    }
    ((received.min(total) as f64 / total as f64) * 100.0).floor() as u32
}

/// The host part of an address, for "from cloud.debian.org".
fn source_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// The name an image gets from an address: its last path segment's.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn name_from_url(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    name_from_file(path.rsplit('/').next().unwrap_or(""))
}

/// What a file is, by its name's extension: `.iso` an installer; `.qcow2`,
/// `.img` or `.raw` a cloud image.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn kind_of_file(name: &str) -> Option<ImageKind> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".iso") {
        Some(ImageKind::Installer)
    } else if [".qcow2", ".img", ".raw"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        Some(ImageKind::Cloud)
    } else {
        None
    }
}

/// The name an image gets from its file's name: without the extension.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn name_from_file(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    stem.chars()
        .filter(|c| c.is_alphanumeric() || " .-_+()".contains(*c))
        .take(super::NAME_MAX)
        .collect()
}

#[component]
fn UploadForm(
    lib: ImageLibrary,
    upload: UploadState,
    uploaded: RwSignal<u32>,
    images: Signal<Vec<ImageInfo>>,
) -> impl IntoView {
    let host_id = lib.host_id;
    // Where the bytes come from: this computer's file, or an address the
    // server fetches.
    let from_url = upload.from_url;
    let url = RwSignal::new(String::new());
    let fetch = upload.fetch;
    let file_ref = NodeRef::<leptos::html::Input>::new();
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(ImageKind::Installer.as_str().to_owned());
    let pool = RwSignal::new(
        lib.pools
            .iter()
            .find(|(p, _)| p == "default")
            .or(lib.pools.first())
            .map(|(p, _)| p.clone())
            .unwrap_or_default(),
    );
    let sha = RwSignal::new(String::new());
    let file_error = RwSignal::new(None::<String>);
    let result = upload.result;
    // The errors of the way chosen: the upload's, or the fetch's.
    let err = move |field: &'static str| {
        Signal::derive(move || {
            let e = if from_url.get() {
                fetch.value().get().and_then(|r| r.err())
            } else {
                result.get().and_then(|r| r.err())
            };
            e.and_then(|e| e.for_field(field))
        })
    };
    let on_file = move |_| {
        file_error.set(None);
        #[cfg(feature = "hydrate")]
        if let Some(f) = file_ref
            .get()
            .and_then(|i| i.files())
            .and_then(|l| l.get(0))
        {
            let file_name = f.name();
            if name.get_untracked().trim().is_empty() {
                name.set(name_from_file(&file_name));
            }
            if let Some(k) = kind_of_file(&file_name) {
                kind.set(k.as_str().to_owned());
            }
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if from_url.get_untracked() {
            if !fetch.pending().get_untracked() {
                fetch.dispatch(FetchImage {
                    host_id,
                    url: url.get_untracked(),
                    name: name.get_untracked(),
                    kind: kind.get_untracked(),
                    pool: pool.get_untracked(),
                    sha256: sha.get_untracked(),
                });
            }
            return;
        }
        if upload.busy.get_untracked() {
            return;
        }
        let url = format!(
            "{UPLOAD_PATH}?{}",
            query(&[
                ("host", &host_id.to_string()),
                ("pool", &pool.get_untracked()),
                ("name", &name.get_untracked()),
                ("kind", &kind.get_untracked()),
                ("sha256", &sha.get_untracked()),
            ])
        );
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = file_ref
                .get()
                .and_then(|i| i.files())
                .and_then(|l| l.get(0))
            else {
                file_error.set(Some("Choose the file to upload.".to_owned()));
                return;
            };
            send(url, file, upload, uploaded);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (url, uploaded);
    };
    let on_url = move |ev| {
        let typed = event_target_value(&ev);
        if let Some(k) = kind_of_file(typed.split(['?', '#']).next().unwrap_or("")) {
            kind.set(k.as_str().to_owned());
        }
        url.set(typed);
    };
    // The name proposed from the address, until one is typed.
    let on_url_done = move |_| {
        if name.get_untracked().trim().is_empty() {
            name.set(name_from_url(&url.get_untracked()));
        }
    };
    let pools = lib.pools.clone();
    let percent = move || upload.progress.get().map(Progress::percent).unwrap_or(0);
    // The image the last fetch started, as the list has it now.
    let fetched = move || {
        let id = fetch.value().get().and_then(|r| r.ok())?.id;
        images.get().into_iter().find(|i| i.id == id)
    };
    let busy = move || {
        if from_url.get() {
            fetch.pending().get()
        } else {
            upload.busy.get()
        }
    };
    view! {
        <article class="panel upload-panel" aria-labelledby="upload-title">
            <h2 id="upload-title">"Add an image"</h2>
            <form class="form" on:submit=on_submit>
                <Field id="image-source" label="From" error=Signal::derive(|| None::<String>)>
                    <select id="image-source"
                        prop:value=move || if from_url.get() { "url" } else { "file" }
                        on:change=move |ev| from_url.set(event_target_value(&ev) == "url")>
                        <option value="file">"A file on this computer (upload)"</option>
                        <option value="url">"An address the server fetches (https://…)"</option>
                    </select>
                </Field>
                <Show when=move || from_url.get() fallback=move || view! {
                    <Field id="image-file" label="File" error=Signal::derive(move || file_error.get().or_else(|| err("file").get()))
                        hint="An installer ISO, or a cloud image with cloud-init (qcow2 or raw). It streams to the host; nothing is kept if it breaks off.">
                        <input id="image-file" type="file" node_ref=file_ref accept=".iso,.qcow2,.img,.raw"
                            aria-describedby="image-file-error" on:change=on_file/>
                    </Field>
                }>
                    <Field id="image-url" label="Address" error=err("url")
                        hint="For example Debian's cloud image: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2. The host's server fetches it in the background; you can leave this page.">
                        <input id="image-url" type="url" inputmode="url" autocomplete="off" spellcheck="false"
                            placeholder="https://…" aria-describedby="image-url-error"
                            prop:value=move || url.get() on:input=on_url on:change=on_url_done/>
                    </Field>
                </Show>
                <Field id="image-name" label="Name" error=err("name")>
                    <input id="image-name" name="name" required maxlength="64" aria-describedby="image-name-error"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </Field>
                <Field id="image-kind" label="Kind" error=err("kind")>
                    <select id="image-kind" aria-describedby="image-kind-error"
                        prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                        {ImageKind::ALL.into_iter().map(|k| view! {
                            <option value=k.as_str()>{k.label()}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field id="image-pool" label="Storage pool" error=err("pool")>
                    <select id="image-pool" aria-describedby="image-pool-error"
                        prop:value=move || pool.get() on:change=move |ev| pool.set(event_target_value(&ev))>
                        {pools.into_iter().map(|(p, free)| view! {
                            <option value=p.clone()>{format!("{p} ({} free)", human_size(free))}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field id="image-sha" label="SHA-256 (optional)" error=err("sha256")
                    hint="Paste the checksum the image's publisher gives: the image is refused if the file differs.">
                    <input id="image-sha" name="sha256" autocomplete="off" spellcheck="false" aria-describedby="image-sha-error"
                        prop:value=move || sha.get() on:input=move |ev| sha.set(event_target_value(&ev))/>
                </Field>
                <button type="submit" class="button" prop:disabled=busy>
                    {move || match (from_url.get(), busy()) {
                        (false, false) => "Upload",
                        (false, true) => "Uploading…",
                        (true, false) => "Fetch",
                        (true, true) => "Asking the address…",
                    }}
                </button>
            </form>
            {move || from_url.get().then(|| fetched().map(|img| fetch_state(&img)))}
            {move || upload.progress.get().map(|p| view! {
                <div class="upload-progress">
                    <progress max="100" value=percent() aria-label="Upload progress">{format!("{} %", p.percent())}</progress>
                    <p class="muted" aria-live="polite">
                        {format!("{} % · {} of {}", p.percent(), human_size(p.sent as u64), human_size(p.total as u64))}
                        {(p.percent() == 100 && upload.busy.get()).then_some(" · the host is checking the image…")}
                    </p>
                </div>
            })}
            {move || result.get().and_then(|r| r.ok()).map(|img| view! {
                <p class="form-ok" role="status">
                    {format!("Uploaded {} ({}). SHA-256: ", img.name, human_size(img.size_bytes))}
                    <code class="sha256">{img.sha256.clone()}</code>
                </p>
            })}
            <Show when=move || !from_url.get()>
                <FormError value=Signal::derive(move || result.get()) fields=&["file", "name", "kind", "pool", "sha256"]/>
            </Show>
            <Show when=move || from_url.get()>
                <FormError value=Signal::derive(move || fetch.value().get()) fields=&["url", "name", "kind", "pool", "sha256"]/>
            </Show>
        </article>
    }
}

/// How the fetch the form started stands: its bar, its SHA-256, or why
/// it failed.
fn fetch_state(img: &ImageInfo) -> AnyView {
    match img.state {
        ImageState::Uploading => {
            let percent = percent_of(img.received_bytes, img.size_bytes);
            view! {
                <div class="upload-progress">
                    <progress max="100" value=percent aria-label="Fetch progress">{format!("{percent} %")}</progress>
                    <p class="muted" aria-live="polite">
                        {format!("{percent} % · {} of {} from {}", human_size(img.received_bytes), human_size(img.size_bytes), source_host(&img.source_url))}
                    </p>
                </div>
            }
            .into_any()
        }
        ImageState::Ready => view! {
            <div class="upload-progress">
                <progress max="100" value="100" aria-label="Fetch progress">"100 %"</progress>
                <p class="form-ok" role="status">
                    {format!("Fetched {} ({}). SHA-256: ", img.name, human_size(img.size_bytes))}
                    <code class="sha256">{img.sha256.clone()}</code>
                </p>
            </div>
        }
        .into_any(),
        ImageState::Failed => view! {
            <p class="form-error" role="alert">{format!("The fetch of {} failed: {}", img.name, img.error)}</p>
        }
        .into_any(),
    }
}

/// Sends `file` as the body of a `POST` to `url`, reporting progress into
/// `upload` and counting `uploaded` up when the image is in.
#[cfg(feature = "hydrate")]
fn send(url: String, file: web_sys::File, upload: UploadState, uploaded: RwSignal<u32>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let fail = move |why: String| {
        upload.busy.set(false);
        upload.result.set(Some(Err(AppError::Request(why))));
    };
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        fail("this browser cannot upload".to_owned());
        return;
    };
    if xhr.open_with_async("POST", &url, true).is_err() {
        fail("the upload could not start".to_owned());
        return;
    }
    let _ = xhr.set_request_header("Content-Type", "application/octet-stream");
    upload.result.set(None);
    upload.busy.set(true);
    upload.progress.set(Some(Progress {
        sent: 0.0,
        total: file.size(),
    }));
    let on_progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() {
                upload.progress.set(Some(Progress {
                    sent: e.loaded(),
                    total: e.total(),
                }));
            }
        });
    if let Ok(target) = xhr.upload() {
        target.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let answered = xhr.clone();
    let on_end = Closure::<dyn Fn()>::new(move || {
        let status = answered.status().unwrap_or(0);
        let text = answered.response_text().ok().flatten().unwrap_or_default();
        upload.busy.set(false);
        let result = if status == 201 {
            serde_json::from_str::<ImageInfo>(&text)
                .map_err(|e| AppError::Request(format!("the answer could not be read: {e}")))
        } else if status == 0 {
            Err(AppError::Request(
                "the connection to the server was lost during the upload".to_owned(),
            ))
        } else {
            Err(serde_json::from_str::<AppError>(&text).unwrap_or_else(|_| {
                AppError::Failed(format!("the server answered {status}: {}", text.trim()))
            }))
        };
        if result.is_ok() {
            uploaded.update(|n| *n += 1);
        }
        upload.result.set(Some(result));
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        fail("the upload could not start".to_owned());
        return;
    }
    // They live as long as the request; one pair per upload.
    on_progress.forget();
    on_end.forget();
}

/// A VM's CD drives on its page: the disc in each (by its name in the
/// library), and for operators an ISO to put in, an eject, and a drive to
/// add while the VM is shut off. `running` is the VM's state as the page
/// knows it: the drives are read again when it changes.
#[component]
pub fn MediaPanel(
    host: i32,
    vm: String,
    #[prop(into)] running: Signal<Option<bool>>,
) -> impl IntoView {
    let change = ServerAction::<ChangeMedia>::new();
    let operator = at_least(Role::Operator);
    let vm = StoredValue::new(vm);
    let media = crate::ui::resource(
        move || (running.get(), change.version().get()),
        move |_| vm_media_of(host, vm.get_value()),
    );
    let image_error = field_error(change.value(), "image");
    view! {
        <article class="panel media-panel" aria-labelledby="media-title">
            <h2 id="media-title">"CD/DVD"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match media.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(m) => view! {
                            <MediaDrives media=m host=host vm=vm.get_value() operator=operator change=change/>
                        }.into_any(),
                    }
                })}
            </Transition>
            <FieldError id="media-image-error" message=image_error/>
            <FormError value=change.value() fields=&["image"]/>
        </article>
    }
}

#[component]
fn MediaDrives(
    media: VmMedia,
    host: i32,
    vm: String,
    operator: bool,
    change: ServerAction<ChangeMedia>,
) -> impl IntoView {
    let no_isos = media.isos.is_empty();
    let isos = StoredValue::new(media.isos.clone());
    let choose = move |id: String, label: String| {
        let isos = isos.get_value();
        view! {
            <label for=id.clone() class="visually-hidden">{label}</label>
            <select id=id name="image_id" aria-describedby="media-image-error">
                {isos.into_iter().map(|(i, n)| view! { <option value=i>{n}</option> }).collect_view()}
            </select>
        }
    };
    let drives = media.drives.clone();
    let add = (operator && !media.running && !no_isos).then(|| {
        let vm = vm.clone();
        view! {
            <ActionForm action=change attr:class="inline-form media-add">
                <input type="hidden" name="host_id" value=host/>
                <input type="hidden" name="vm" value=vm/>
                <input type="hidden" name="target" value=""/>
                {choose("media-new".into(), "ISO for a new drive".into())}
                <button type="submit" class="button secondary small">"Add a CD drive with it"</button>
            </ActionForm>
        }
    });
    view! {
        {if drives.is_empty() {
            view! { <p class="muted">"No CD drive."</p> }.into_any()
        } else {
            view! {
                <ul class="media-drives">
                    {drives.into_iter().map(|d| {
                        let disc = match (&d.image, &d.path) {
                            (Some(name), _) => name.clone(),
                            (None, Some(path)) => path.clone(),
                            (None, None) => "empty".to_owned(),
                        };
                        let full = d.path.clone().unwrap_or_default();
                        let has_disc = d.path.is_some();
                        let target = d.target.clone();
                        let vm = vm.clone();
                        let controls = operator.then(|| {
                            let (t1, t2, vm1, vm2) = (target.clone(), target.clone(), vm.clone(), vm.clone());
                            view! {
                                {(!no_isos).then(|| view! {
                                    <ActionForm action=change attr:class="inline-form">
                                        <input type="hidden" name="host_id" value=host/>
                                        <input type="hidden" name="vm" value=vm1/>
                                        <input type="hidden" name="target" value=t1.clone()/>
                                        {choose(format!("media-{t1}"), format!("ISO for {t1}"))}
                                        <button type="submit" class="button small">"Insert"</button>
                                    </ActionForm>
                                })}
                                {has_disc.then(|| view! {
                                    <ActionForm action=change attr:class="inline-form">
                                        <input type="hidden" name="host_id" value=host/>
                                        <input type="hidden" name="vm" value=vm2/>
                                        <input type="hidden" name="target" value=t2.clone()/>
                                        <input type="hidden" name="image_id" value="0"/>
                                        <button type="submit" class="button secondary small"
                                            aria-label=format!("Eject {t2}")>"Eject"</button>
                                    </ActionForm>
                                })}
                            }
                        });
                        view! {
                            <li class="media-drive">
                                <span><strong>{target}</strong> " · " <span title=full>{disc}</span></span>
                                {controls}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {add}
        {(operator && media.running && media.drives.is_empty()).then(|| view! {
            <p class="muted">"Shut the VM down to add a CD drive."</p>
        })}
        {(operator && no_isos).then(|| view! {
            <p class="muted">
                "No installer ISO in this host's library yet: "
                <A href=format!("/hosts/{host}/images")>"add one"</A>
                "."
            </p>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            query(&[("name", "Debian 12 (cloud)"), ("pool", "default")]),
            "name=Debian%2012%20%28cloud%29&pool=default"
        );
    }

    #[test]
    fn fetches_read_as_people_say_them() {
        assert_eq!(
            name_from_url("https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2?x=1"),
            "debian-12-generic-amd64"
        );
        assert_eq!(name_from_url("http://h/"), "");
        assert_eq!(name_from_url("http://h/grub rescue.iso#top"), "grub rescue");
        assert_eq!(
            source_host("https://cloud.debian.org/images/x.qcow2"),
            "cloud.debian.org"
        );
        assert_eq!(source_host("http://127.0.0.1:8080?x"), "127.0.0.1:8080");
        assert_eq!(percent_of(0, 0), 0);
        assert_eq!(
            percent_of(999, 1000),
            99,
            "100 % only when every byte is in"
        );
        assert_eq!(percent_of(1000, 1000), 100);
    }

    #[test]
    fn names_come_from_file_names() {
        assert_eq!(
            name_from_file("debian-12-genericcloud-amd64.qcow2"),
            "debian-12-genericcloud-amd64"
        );
        assert_eq!(name_from_file("grub rescue?.iso"), "grub rescue");
        assert_eq!(
            Progress {
                sent: 50.0,
                total: 200.0
            }
            .percent(),
            25
        );
        assert_eq!(
            Progress {
                sent: 0.0,
                total: 0.0
            }
            .percent(),
            0
        );
    }
}
