-- Pandoc Lua filter: GitHub Markdown guide -> antsibull-docs extra-docs RST.
-- Metadata in: docpath (repo-relative path of the .md file, e.g. docs/modes/dr.md)
local PREFIX = "ansible_collections.lvs.ipvs.docsite."
local docpath

local function dirname(p) return p:match("^(.*)/[^/]*$") or "" end

local function normalize(p)
  local out = {}
  for part in p:gmatch("[^/]+") do
    if part == ".." then table.remove(out)
    elseif part ~= "." then table.insert(out, part) end
  end
  return table.concat(out, "/")
end

-- README.md -> readme ; docs/roles.md -> roles ; docs/modes/dr.md -> modes_dr
local function slug(p)
  p = p:gsub("%.md$", "")
  if p == "README" then return "readme" end
  p = p:gsub("^docs/", "")
  return (p:gsub("/", "_"):lower())
end

local function label(p, anchor)
  local l = PREFIX .. slug(p)
  if anchor and anchor ~= "" then l = l .. "." .. anchor end
  return l
end

local function rst_escape(s) return (s:gsub("([`<>\\])", "\\%1")) end

function Meta(m)
  docpath = pandoc.utils.stringify(m.docpath or "")
end

local function Header(h)
  local labels = ".. _" .. label(docpath, h.identifier) .. ":\n"
  if h.level == 1 then labels = ".. _" .. label(docpath) .. ":\n" .. labels end
  h.identifier = ""  -- no pandoc-generated RST label; we emit our own
  return { pandoc.RawBlock("rst", labels), h }
end

local function Link(l)
  local t = l.target
  if t:match("^%a[%w+.-]*:") then return nil end   -- http:, https:, mailto:
  local file, anchor = t:match("^([^#]*)#?(.*)$")
  local target
  if file == "" then target = docpath
  else target = normalize((dirname(docpath) ~= "" and dirname(docpath) .. "/" or "") .. file) end
  local text = pandoc.utils.stringify(l.content)
  if target:match("%.md$") then
    if text:match("%.md$") or text:match("%.md#") then  -- link text is a file name: use the target's title
      return pandoc.RawInline("rst", ":ref:`" .. label(target, anchor) .. "`")
    end
    return pandoc.RawInline("rst", ":ref:`" .. rst_escape(text) .. " <" .. label(target, anchor) .. ">`")
  end
  -- a file or directory in the repository with no page on the site: keep the path as code
  if text == target or text == file then return pandoc.Code(target) end
  return { pandoc.Str(text), pandoc.Space(), pandoc.Str("("), pandoc.Code(target), pandoc.Str(")") }
end

-- Mermaid stays Mermaid: the page carries the source in a <pre class="mermaid">, which the
-- reader's browser draws with mermaid.js (as GitHub does for the Markdown). Without the
-- script, for example offline, the reader sees the diagram's source, which reads as text.
local MERMAID_JS = "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"
local mermaid_loaded = false

local function html_escape(s) return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")) end

local function CodeBlock(c)
  if c.classes[1] ~= "mermaid" then return nil end
  local html = '<pre class="mermaid">\n' .. html_escape(c.text) .. '\n</pre>'
  if not mermaid_loaded then
    mermaid_loaded = true
    html = html .. '\n<script type="module">import mermaid from "' .. MERMAID_JS
      .. '"; mermaid.initialize({ startOnLoad: true });</script>'
  end
  return pandoc.RawBlock("rst", ".. raw:: html\n\n   " .. html:gsub("\n", "\n   "))
end

return { { Meta = Meta }, { Header = Header, Link = Link, CodeBlock = CodeBlock } }
