# Build Jiedao for Windows from a clean checkout (PowerShell, in the checkout's folder):
#   powershell -ExecutionPolicy Bypass -File packaging\build-windows.ps1
# Needs Python 3.11 (py launcher) and Inno Setup 6; makes build\venv, build\dist\jiedao\ and
# build\jiedao-<version>-setup.exe. The version is pyproject.toml's. See docs/install.md.
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
$Version = (py -3.11 -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])").Trim()
if (-not (Test-Path build\venv\Scripts\python.exe)) { py -3.11 -m venv build\venv }
build\venv\Scripts\python.exe -m pip install -q -e ".[build]"
if ($LASTEXITCODE -ne 0) { throw "pip install failed" }
build\venv\Scripts\python.exe packaging\make_icons.py build\icons
if ($LASTEXITCODE -ne 0) { throw "make_icons.py failed" }
build\venv\Scripts\pyinstaller.exe --noconfirm --distpath build\dist --workpath build\pyi packaging\jiedao.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
$Got = (& build\dist\jiedao\jiedao.exe --version) -join ""
if ($Got -ne "街道工作台 $Version") { throw "the built program reports '$Got', expected $Version" }
# Qt's Chinese for standard buttons and menus (shell/ui/translations.py) must be in the bundle.
if (-not (Get-ChildItem -Recurse build\dist\jiedao -Filter qtbase_zh_CN.qm)) { throw "qtbase_zh_CN.qm is missing from the bundle" }
$Iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe"
if (-not (Test-Path $Iscc)) { $Iscc = Join-Path $env:LOCALAPPDATA "Programs\Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" packaging\jiedao.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Write-Host "done: build\jiedao-$Version-setup.exe"
