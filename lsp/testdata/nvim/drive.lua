-- Drives Neovim through what a person does in a journey file, and writes
-- what it saw as JSON to $OUT: the diagnostics Neovim shows, the completion
-- items after `stage.`, the hover on a reference, and the diagnostics once
-- the misspelled stage is fixed by an edit in the buffer.
local out = { steps = {} }
local buf = vim.api.nvim_get_current_buf()

local function step(name, ok)
  table.insert(out.steps, { name = name, ok = ok })
  return ok
end

local function find(pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local s, e = line:find(pattern)
    if s then
      return i - 1, s - 1, e
    end
  end
end

local function run()
  if not step('attached', vim.wait(20000, function()
    return #vim.lsp.buf_get_clients(buf) > 0
  end, 20)) then
    return
  end
  if not step('diagnostics', vim.wait(20000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 20)) then
    return
  end
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out.diagnostics, { line = d.lnum, col = d.col, end_col = d.end_col, severity = d.severity, message = d.message })
  end

  -- Completion right after `stage.` in `goto = stage.chek`.
  local row, col = find('stage%.chek')
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(),
    position = { line = row, character = col + #'stage.' },
  }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/completion', params, 10000) or {}
  out.completion = {}
  for _, r in pairs(responses) do
    local items = r.result and (r.result.items or r.result) or {}
    for _, item in ipairs(items) do
      table.insert(out.completion, item.label)
    end
  end

  -- Hover on the channel reference.
  row, col = find('channel%.email')
  params.position = { line = row, character = col + #'channel.' }
  out.hover = ''
  for _, r in pairs(vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 10000) or {}) do
    if r.result and r.result.contents then
      out.hover = r.result.contents.value or ''
    end
  end

  -- Fix the misspelled stage in the buffer: Neovim sends the change.
  row, col = find('chek')
  vim.api.nvim_buf_set_text(buf, row, col, row, col + 4, { 'check' })
  step('cleared', vim.wait(20000, function()
    return #vim.diagnostic.get(buf) == 0
  end, 20))
end

local ok, err = pcall(run)
if not ok then
  out.error = tostring(err)
end
vim.fn.writefile({ vim.fn.json_encode(out) }, os.getenv('OUT'))
vim.cmd('qa!')
