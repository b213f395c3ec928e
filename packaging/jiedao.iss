; Inno Setup script: the Windows installer of Jiedao (街道工作台), from the PyInstaller folder.
; Steps (docs/install.md, "Windows"): make_icons.py, PyInstaller with packaging\jiedao.spec, then
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=X.Y.Z packaging\jiedao.iss
; (packaging\build-windows.ps1 does all three and reads the version from pyproject.toml).
; Output: build\jiedao-<version>-setup.exe. Per-user: no administrator rights, the program under
; %LOCALAPPDATA%\Programs\Jiedao, the data (databases, settings, backups) under %LOCALAPPDATA%\jiedao,
; which the uninstaller leaves alone.

#ifndef AppVersion
  #error Pass the version from pyproject.toml: ISCC /DAppVersion=X.Y.Z packaging\jiedao.iss
#endif

[Setup]
AppId={{6A696564-616F-4A69-6564-616F30303031}
AppName=街道工作台
AppVersion={#AppVersion}
AppVerName=街道工作台 {#AppVersion}
AppPublisher=Jiedao
DefaultDirName={localappdata}\Programs\Jiedao
DefaultGroupName=街道工作台
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\build
OutputBaseFilename=jiedao-{#AppVersion}-setup
SetupIconFile=..\build\icons\jiedao.ico
UninstallDisplayIcon={app}\jiedaow.exe
UninstallDisplayName=街道工作台 {#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; Windows 10 1809 or later (Qt 6)
MinVersion=10.0.17763

[Languages]
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Dirs]
; Third-party plugins: a package or module per plugin (docs/install.md, "插件文件夹")
Name: "{app}\plugins"

[Files]
Source: "..\build\dist\jiedao\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\CHANGELOG.md"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
; jiedaow.exe: the same program without a console window (the spec builds both on Windows)
Name: "{group}\街道工作台"; Filename: "{app}\jiedaow.exe"; WorkingDir: "{app}"
Name: "{group}\卸载 街道工作台"; Filename: "{uninstallexe}"
Name: "{userdesktop}\街道工作台"; Filename: "{app}\jiedaow.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\jiedaow.exe"; Description: "{cm:LaunchProgram,街道工作台}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the program itself leaves in its own folder (bytecode of plugins in the plugins folder);
; %LOCALAPPDATA%\jiedao (databases, settings, backups) is the user's and stays.
Type: filesandordirs; Name: "{app}\plugins\__pycache__"
