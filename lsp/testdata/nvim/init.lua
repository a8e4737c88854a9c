-- A minimal Neovim configuration for Waymark, as lsp/README.md describes it:
-- start `waymark lsp` for journey and test files, with the folder of the
-- file as the workspace. The editor test runs Neovim with this file as its
-- whole configuration (WAYMARK names the binary under test).
local cmd = { os.getenv('WAYMARK') or 'waymark', 'lsp' }

vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
  pattern = { '*.journey.hcl', '*.journeytest.hcl' },
  callback = function(args)
    local config = {
      name = 'waymark',
      cmd = cmd,
      root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ':p:h'),
    }
    if vim.lsp.start then -- Neovim 0.8 and later
      vim.lsp.start(config)
    else -- Neovim 0.7
      vim.lsp.buf_attach_client(args.buf, vim.lsp.start_client(config))
    end
  end,
})
